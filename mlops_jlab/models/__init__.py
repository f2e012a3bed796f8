"""Model files: the folder format (manifest, signature, hashed files) and its flavors."""

from .signature import Signature, infer_signature
from .folder import save_model_folder

__all__ = ["Signature", "infer_signature", "save_model_folder"]
