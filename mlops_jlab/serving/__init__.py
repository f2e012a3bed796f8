"""Serving domain: deployments (desired state), the controller and the model-server worker."""

from .records import Deployment, DeploymentEvent, RequestBucket, RequestStats
from .service import ServingService

__all__ = ["Deployment", "DeploymentEvent", "RequestBucket", "RequestStats", "ServingService"]
