"""Celery beat with N interval entries every second, for the side-by-side benchmark.

Environment: BENCH_BROKER (Redis URL), BENCH_SCHEDULES (N), BENCH_QUEUE.
"""
import os

from celery import Celery

app = Celery('celery_beat_bench', broker=os.environ['BENCH_BROKER'])
app.conf.task_serializer = 'json'
queue = os.environ['BENCH_QUEUE']
app.conf.beat_schedule = {
    f'task-{i}': {'task': 'tasks.record', 'schedule': 1.0, 'args': [i], 'options': {'queue': queue}}
    for i in range(int(os.environ['BENCH_SCHEDULES']))
}
