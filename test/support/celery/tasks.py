"""Celery app and tasks for the test workers.

Every task execution, and every message the worker receives, revokes, rejects or cannot route to a task,
is appended as one JSON line to the file named by CELERY_TEST_RECORD_FILE, so a test can assert exactly
what a real Celery worker saw and ran. Configuration comes from the environment:

  CELERY_TEST_BROKER_URL   broker URL (redis://... or amqp://...)
  CELERY_TEST_RECORD_FILE  JSON-lines file the records are appended to
  CELERY_TEST_QUEUES       JSON list of {"name", "exchange"?, "exchange_type"?, "routing_key"?, "max_priority"?}
  CELERY_TEST_RESULT_BACKEND  optional: a result backend URL; results are then stored (with STARTED)
  CELERY_TEST_BROKER_TRANSPORT_OPTIONS  optional: JSON of broker_transport_options (e.g. a Sentinel master_name)
  CELERY_TEST_ALLOWED_NAMESPACES  optional: JSON list; every task then runs only for messages whose
                                  periodic_task_namespace header is in it (docs/multi-tenancy.md's guard)
"""

import json
import os
import socket
import time
import uuid

from celery import Celery, Task, signals
from celery.exceptions import Reject, SoftTimeLimitExceeded
from kombu import Exchange, Queue

RECORD_FILE = os.environ['CELERY_TEST_RECORD_FILE']


def _queue(spec):
    name = spec['name']
    exchange = Exchange(spec.get('exchange', name), type=spec.get('exchange_type', 'direct'))
    arguments = {'x-max-priority': spec['max_priority']} if spec.get('max_priority') is not None else None
    return Queue(name, exchange, routing_key=spec.get('routing_key', name), queue_arguments=arguments)


ALLOWED_NAMESPACES = json.loads(os.environ.get('CELERY_TEST_ALLOWED_NAMESPACES', 'null'))


class NamespaceGuard(Task):
    """The guard of docs/multi-tenancy.md: a run whose namespace may not run the task is rejected unrun."""

    def before_start(self, task_id, args, kwargs):
        namespace = getattr(self.request, 'periodic_task_namespace', None)
        if namespace not in ALLOWED_NAMESPACES:
            _append({'event': 'refused', 'at': _now_ms(), 'id': task_id, 'task': self.name,
                     'error': f'namespace {namespace!r} may not run {self.name}'})
            raise Reject(f'namespace {namespace!r} may not run {self.name}', requeue=False)


app = Celery('tasks', broker=os.environ['CELERY_TEST_BROKER_URL'],
             task_cls=NamespaceGuard if ALLOWED_NAMESPACES is not None else 'celery.app.task:Task')
app.conf.update(
    task_serializer='json',
    accept_content=['json'],
    task_queues=[_queue(q) for q in json.loads(os.environ.get('CELERY_TEST_QUEUES', '[]'))],
    worker_hijack_root_logger=True,
    # Results are read from the record file; a backend is only used by the tests of result reading.
    task_ignore_result='CELERY_TEST_RESULT_BACKEND' not in os.environ,
    result_backend=os.environ.get('CELERY_TEST_RESULT_BACKEND'),
    task_track_started=True,
    broker_transport_options=json.loads(os.environ.get('CELERY_TEST_BROKER_TRANSPORT_OPTIONS', '{}')),
    timezone='UTC',
    enable_utc=True,
)


def _now_ms():
    return time.time() * 1000.0


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def _append(record):
    # One write per line with O_APPEND: lines from the prefork children and the main process never interleave.
    line = (json.dumps(record, default=str, sort_keys=True) + '\n').encode('utf-8')
    fd = os.open(RECORD_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _message_record(message):
    if message is None:
        return None
    return {
        'headers': _jsonable(message.headers or {}),
        'properties': _jsonable(message.properties or {}),
        'delivery_info': _jsonable(message.delivery_info or {}),
        'content_type': message.content_type,
        'content_encoding': message.content_encoding,
    }


@signals.task_received.connect
def _on_received(sender=None, request=None, **_):
    _append({
        'event': 'received', 'at': _now_ms(), 'id': request.id, 'task': request.type,
        'message': _message_record(getattr(request, '_message', None)),
    })


@signals.task_revoked.connect
def _on_revoked(sender=None, request=None, terminated=None, signum=None, expired=None, **_):
    _append({
        'event': 'revoked', 'at': _now_ms(), 'id': getattr(request, 'id', None),
        # request.task is the task object for an expired message, its name for a terminated one.
        'task': getattr(getattr(request, 'task', None), 'name', getattr(request, 'task', None)),
        'terminated': terminated, 'expired': expired, 'signum': signum and int(signum),
    })


@signals.task_rejected.connect
def _on_rejected(sender=None, message=None, exc=None, **_):
    _append({'event': 'rejected', 'at': _now_ms(), 'error': repr(exc), 'message': _message_record(message)})


@signals.task_unknown.connect
def _on_unknown(sender=None, name=None, id=None, message=None, exc=None, **_):
    _append({'event': 'unknown', 'at': _now_ms(), 'id': id, 'task': name, 'error': repr(exc),
             'message': _message_record(message)})


class _Execution:
    """Writes a 'started' record when a task body starts and a 'finished' record when it ends."""

    def __init__(self, task, args, kwargs):
        self.run = str(uuid.uuid4())
        request = task.request
        fields = {k: v for k, v in vars(request).items() if not k.startswith('_')}
        _append({
            'event': 'started', 'at': _now_ms(), 'run': self.run, 'id': request.id, 'task': task.name,
            'args': _jsonable(list(args)), 'kwargs': _jsonable(dict(kwargs)),
            'request': _jsonable(fields),
            'hostname': request.hostname, 'pid': os.getpid(), 'machine': socket.gethostname(),
        })

    def finish(self, outcome, result=None, error=None):
        _append({'event': 'finished', 'at': _now_ms(), 'run': self.run, 'outcome': outcome,
                 'result': _jsonable(result), 'error': error})


@app.task(bind=True)
def add(self, a, b, x=0):
    execution = _Execution(self, (a, b), {'x': x})
    result = a + b + x
    execution.finish('succeeded', result)
    return result


@app.task(bind=True)
def record(self, *args, **kwargs):
    _Execution(self, args, kwargs).finish('succeeded')


@app.task(bind=True)
def sleep(self, seconds):
    """Sleeps; a soft time limit is recorded as outcome 'soft-time-limit'. A hard time limit kills the
    process (prefork pool only), which leaves the execution without a 'finished' record."""
    execution = _Execution(self, (seconds,), {})
    try:
        time.sleep(float(seconds))
    except SoftTimeLimitExceeded:
        execution.finish('soft-time-limit')
        return None
    execution.finish('succeeded', seconds)
    return seconds


@app.task(bind=True)
def work(self, version, seconds=0.0):
    """Runs for `seconds`; `version` is whatever the caller wants recorded with the run (the soak's edits)."""
    execution = _Execution(self, (version,), {'seconds': seconds})
    time.sleep(float(seconds))
    execution.finish('succeeded', version)
    return version


@app.task(bind=True)
def fail(self, message='requested failure'):
    execution = _Execution(self, (message,), {})
    execution.finish('failed', error=message)
    raise RuntimeError(message)


@app.task(bind=True, max_retries=3)
def flaky(self, marker):
    """Fails its first attempt with a retry (state RETRY in the result backend), then succeeds."""
    execution = _Execution(self, (marker,), {})
    if self.request.retries == 0:
        execution.finish('failed', error='first attempt fails')
        raise self.retry(exc=RuntimeError('first attempt fails'), countdown=1)
    execution.finish('succeeded', marker)
    return marker
