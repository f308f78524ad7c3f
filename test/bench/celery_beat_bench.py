"""Celery beat with N interval entries (every second unless BENCH_EVERY says otherwise), for the side-by-side
benchmarks.

Environment: BENCH_BROKER (Redis URL), BENCH_SCHEDULES (N), BENCH_QUEUE, BENCH_EVERY (seconds, default 1),
BENCH_CRON_SHARE (0-1, default 0: that part of the N are crontab entries due every minute in Europe/Berlin).
"""
import os

from celery import Celery
from celery.schedules import crontab

app = Celery('celery_beat_bench', broker=os.environ['BENCH_BROKER'])
app.conf.task_serializer = 'json'
queue = os.environ['BENCH_QUEUE']
every = float(os.environ.get('BENCH_EVERY', '1'))
count = int(os.environ['BENCH_SCHEDULES'])
cron_count = round(count * float(os.environ.get('BENCH_CRON_SHARE', '0')))
app.conf.timezone = 'Europe/Berlin'
app.conf.beat_schedule = {
    f'task-{i}': {
        'task': 'tasks.record',
        'schedule': crontab() if i < cron_count else every,
        'args': [i],
        'options': {'queue': queue},
    }
    for i in range(count)
}
