"""A Celery app with the tasks the examples schedule, to see them run:

    cd examples/worker && celery -A tasks worker --loglevel INFO

It reads the broker from CELERY_BROKER_URL (default: the local Redis the quick start uses).
"""
import os

from celery import Celery

app = Celery("tasks", broker=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"))


@app.task(name="tasks.add")
def add(a, b, x=0):
    return a + b + x


@app.task(name="tasks.record", bind=True)
def record(self, *args, **kwargs):
    """Returns what it was called with and which PeriodicTask slot sent it."""
    return {
        "args": args,
        "kwargs": kwargs,
        "periodic_task_name": getattr(self.request, "periodic_task_name", None),
        "periodic_task_scheduled_at": getattr(self.request, "periodic_task_scheduled_at", None),
    }
