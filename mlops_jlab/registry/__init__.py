"""Model registry domain: registered models, versions, aliases, validation, lineage."""

from .records import ModelVersion, RegisteredModel, ValidationReport
from .service import RegistryService

__all__ = ["ModelVersion", "RegisteredModel", "RegistryService", "ValidationReport"]
