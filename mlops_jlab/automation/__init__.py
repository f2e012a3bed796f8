"""Notebooks as units of automation: tracked papermill runs, sweeps on Dask, pipelines.

papermill's engine module is imported first on purpose: it loads the ``papermill.engine``
entry points, among them :mod:`.papermill_engine`, which must find this package
initialised far enough to import (see that module).
"""

import papermill.engines  # noqa: F401  (order matters: see above)
