"""Code the tests put inside model files (to see untrusted types refused)."""


def shady_transform(X):  # noqa: N803 - scikit-learn naming
    """A function a model file could smuggle in; harmless here."""
    return X
