"""Code the tests put inside model files (to see untrusted types refused)."""


def shady_transform(X):
    """A function a model file could smuggle in; harmless here."""
    return X


def record_environment(X, out):
    """What a model that escaped the type check could do on load or predict: here it
    writes the environment and the process id it runs with to ``out``, so a test can see
    where it ran and what it could reach."""
    import json
    import os

    with open(out, "w") as f:
        json.dump({"pid": os.getpid(), "env": dict(os.environ), "cwd": os.getcwd()}, f)
    return X
