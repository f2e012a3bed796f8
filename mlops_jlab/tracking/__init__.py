"""Experiment tracking domain: experiments, runs, metrics, artifacts, datasets, search."""

from .records import Experiment, MetricPoint, Run, RunDetail, RunPage
from .service import TrackingService

__all__ = ["Experiment", "MetricPoint", "Run", "RunDetail", "RunPage", "TrackingService"]
