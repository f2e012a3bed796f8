"""IPython magics: ``%%mlops_train`` and ``%mlops_deploy``."""

from .train import TrainMagics, load_ipython_extension

__all__ = ["TrainMagics", "load_ipython_extension"]
