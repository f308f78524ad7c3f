"""Prints the beat_schedule of a Celery app as JSON, for `celerybeat-operator import --from celery-app`.

Run with the app's own Python, in the app's directory:

    python3 celery-app-reader.py proj.celery:app [--schedule-file celerybeat-schedule]

Schedules are described, not converted: the operator decides what it can express. Values that are not JSON
are written as {"__python__": "<type>"} so the operator can name them. With --schedule-file, the run state
(last_run_at, total_run_count) comes from the file `celery beat` keeps it in.
"""

import argparse
import datetime
import importlib
import json
import os
import shelve
import sys


def _python_value(value):
    return {'__python__': type(value).__module__ + '.' + type(value).__qualname__}


def _load_app(spec):
    module_name, _, attribute = spec.partition(':')
    module = importlib.import_module(module_name)
    if attribute:
        target = module
        for part in attribute.split('.'):
            target = getattr(target, part)
        return target
    for name in ('app', 'celery'):
        if hasattr(module, name):
            return getattr(module, name)
    raise LookupError('module %s has no attribute "app" or "celery"; write %s:<attribute>' % (module_name, module_name))


def _microseconds(delta):
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


def _crontab_field(value):
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    try:
        values = sorted(value)
    except TypeError:
        return _python_value(value)
    if values and all(isinstance(v, int) for v in values):
        return ','.join(str(v) for v in values)
    return _python_value(value)


def _describe_schedule(value, relative):
    from celery import schedules

    if isinstance(value, bool):
        return {'kind': 'unsupported', 'class': 'bool'}
    if isinstance(value, (int, float)):
        return {'kind': 'seconds', 'value': value, 'relative': bool(relative)}
    if isinstance(value, datetime.timedelta):
        return {'kind': 'microseconds', 'value': _microseconds(value), 'relative': bool(relative)}
    if isinstance(value, schedules.crontab):
        fields = ('minute', 'hour', 'day_of_week', 'day_of_month', 'month_of_year')
        return dict({'kind': 'crontab'}, **{f: _crontab_field(getattr(value, '_orig_' + f)) for f in fields})
    if isinstance(value, schedules.solar):
        return {'kind': 'solar', 'event': value.event, 'lat': value.lat, 'lon': value.lon}
    if type(value) is schedules.schedule:
        return {'kind': 'microseconds', 'value': _microseconds(value.run_every),
                'relative': bool(value.relative or relative)}
    return {'kind': 'unsupported', 'class': type(value).__module__ + '.' + type(value).__qualname__}


def _options(options):
    out = {}
    for key, value in dict(options or {}).items():
        # kombu Queue and Exchange objects route by their name.
        if key in ('queue', 'exchange') and hasattr(value, 'name') and not isinstance(value, str):
            value = value.name
        out[key] = value
    return out


def _iso(value):
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.isoformat()


def _run_state(path):
    if path is None:
        return {}
    if not any(os.path.exists(path + suffix) for suffix in ('', '.db', '.dat', '.pag')):
        raise LookupError('no beat schedule file at %s' % os.path.abspath(path))
    with shelve.open(path, flag='r') as store:
        entries = store.get('entries', {})
        return {name: {'last_run_at': _iso(getattr(entry, 'last_run_at', None)),
                       'total_run_count': int(getattr(entry, 'total_run_count', 0) or 0)}
                for name, entry in entries.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('app')
    parser.add_argument('--schedule-file')
    arguments = parser.parse_args()
    sys.path.insert(0, os.getcwd())
    out = sys.stdout
    # The app's modules may print while they load; only the JSON goes to stdout.
    sys.stdout = sys.stderr
    try:
        app = _load_app(arguments.app)
        conf = app.conf
        schedule = dict(conf.beat_schedule or {})
        state = _run_state(arguments.schedule_file)
    except Exception as error:
        sys.stderr.write('cannot load %s: %s: %s\n' % (arguments.app, type(error).__name__, error))
        return 3
    timezone = conf.timezone or ('UTC' if conf.enable_utc else None)
    entries = []
    for name, entry in schedule.items():
        entry = dict(entry)
        described = {
            'name': str(name),
            'task': entry.get('task'),
            'schedule': _describe_schedule(entry.get('schedule'), entry.get('relative', False)),
            'args': list(entry['args']) if isinstance(entry.get('args'), (list, tuple)) else entry.get('args'),
            'kwargs': entry.get('kwargs'),
            'options': _options(entry.get('options')),
        }
        described.update(state.get(name, {}))
        entries.append(described)
    out.write(json.dumps({'timezone': None if timezone is None else str(timezone), 'entries': entries},
                         default=_python_value))
    out.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
