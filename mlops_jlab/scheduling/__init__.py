"""Cron schedules of notebooks and pipelines: held in the store, fired by the runner in
the process that leads the deployment controller (the Jupyter server or
``mlops-jlab serve``)."""

from .service import ScheduleService

__all__ = ["ScheduleService"]
