"""Persistence: SQL metadata (SQLAlchemy + Alembic) and content-addressed artifacts."""

from .artifacts import ArtifactStore
from .db import Database

__all__ = ["ArtifactStore", "Database"]
