"""Jupyter server configuration for the Galata browser tests.

`jupyter lab --config jupyter_server_test_config.py` (see package.json `start`).
The tests start from a fresh, empty mlops store and a scratch copy of examples/.
"""

import os
import shutil
import tempfile
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"

# A fresh store: the server extension and the kernels it starts both inherit it.
os.environ["MLOPS_JLAB_HOME"] = tempfile.mkdtemp(prefix="mlops-jlab-ui-home-")
os.environ.setdefault("MLOPS_JLAB_USER", "galata")

# A scratch copy of the example notebooks as the server root.
_root = Path(tempfile.mkdtemp(prefix="mlops-jlab-ui-root-")) / "examples"
if EXAMPLES.is_dir():
    shutil.copytree(EXAMPLES, _root)
else:
    _root.mkdir(parents=True)

configure_jupyter_server(c)  # noqa: F821 (c is injected by the config loader)

c.ServerApp.allow_root = True  # noqa: F821
c.ServerApp.root_dir = str(_root)  # noqa: F821
