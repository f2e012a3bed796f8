"""Model files: the folder format (manifest, signature, hashed files) and its flavors."""

from .folder import save_model_folder
from .signature import Signature, infer_signature

__all__ = ["Signature", "infer_signature", "save_model_folder"]
