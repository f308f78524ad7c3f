"""Celery beat with N interval entries (every second unless BENCH_EVERY says otherwise), for the side-by-side
benchmarks.

Environment: BENCH_BROKER (Redis URL), BENCH_SCHEDULES (N), BENCH_QUEUE, BENCH_EVERY (seconds, default 1).
"""
import os

from celery import Celery

app = Celery('celery_beat_bench', broker=os.environ['BENCH_BROKER'])
app.conf.task_serializer = 'json'
queue = os.environ['BENCH_QUEUE']
every = float(os.environ.get('BENCH_EVERY', '1'))
app.conf.beat_schedule = {
    f'task-{i}': {'task': 'tasks.record', 'schedule': every, 'args': [i], 'options': {'queue': queue}}
    for i in range(int(os.environ['BENCH_SCHEDULES']))
}
