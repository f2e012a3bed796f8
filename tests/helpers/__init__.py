"""Code the tests put inside model files (to see untrusted types refused)."""


def shady_transform(X):
    """A function a model file could smuggle in; harmless here."""
    return X
