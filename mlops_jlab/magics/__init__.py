"""IPython magics: ``%%mlops_train`` (``%mlops_deploy`` arrives with serving)."""

from .train import TrainMagics, load_ipython_extension

__all__ = ["TrainMagics", "load_ipython_extension"]
