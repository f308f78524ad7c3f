"""Writes RedBeat entries into Redis in RedBeat's storage format, from real Celery schedule objects.

    python3 redbeat_writer.py REDIS_URL ENTRIES_JSON

Each entry: {"name", "task", "schedule": {"every": seconds, "relative": bool} or {"crontab": {kwargs}} or
{"rrule": {...}}, "args", "kwargs", "options", "enabled", "last_run_at": ISO or null, "zone": IANA name,
"offset" (seconds) or null (no timezone member, as RedBeat before 2.0 wrote it), "total_run_count"}.
The layout is RedBeat's: a hash <prefix><name> with the JSON fields "definition" and "meta", the entry's key
in the zset <prefix>:schedule, and the lock and statics keys beside them.
"""

import datetime
import json
import sys
import zoneinfo

import redis
from celery.schedules import crontab, schedule


def _schedule(spec):
    if 'crontab' in spec:
        c = crontab(**spec['crontab'])
        # RedBeat keeps the arguments as they were given (crontab's _orig_* attributes).
        return {'__type__': 'crontab', 'minute': c._orig_minute, 'hour': c._orig_hour,
                'day_of_week': c._orig_day_of_week, 'day_of_month': c._orig_day_of_month,
                'month_of_year': c._orig_month_of_year}
    if 'rrule' in spec:
        return dict({'__type__': 'rrule'}, **spec['rrule'])
    s = schedule(run_every=datetime.timedelta(seconds=spec['every']), relative=spec.get('relative', False))
    return {'__type__': 'interval', 'every': s.run_every.total_seconds(), 'relative': bool(s.relative)}


def _datetime(entry):
    if not entry.get('last_run_at'):
        return None
    instant = datetime.datetime.fromisoformat(entry['last_run_at'].replace('Z', '+00:00'))
    encoded = {'__type__': 'datetime'}
    if entry.get('zone'):
        local = instant.astimezone(zoneinfo.ZoneInfo(entry['zone']))
        zone = entry['zone']
    elif entry.get('offset') is not None:
        local = instant.astimezone(datetime.timezone(datetime.timedelta(seconds=entry['offset'])))
        zone = float(entry['offset'])
    else:
        local = instant.astimezone(datetime.timezone.utc)
        zone = None
    for field in ('year', 'month', 'day', 'hour', 'minute', 'second', 'microsecond'):
        encoded[field] = getattr(local, field)
    if zone is not None:
        encoded['timezone'] = zone
    return encoded


def main():
    client = redis.Redis.from_url(sys.argv[1])
    prefix = 'redbeat:'
    for entry in json.loads(sys.argv[2]):
        key = prefix + entry['name']
        definition = {'name': entry['name'], 'task': entry['task'], 'args': entry.get('args', []),
                      'kwargs': entry.get('kwargs', {}), 'options': entry.get('options', {}),
                      'schedule': _schedule(entry['schedule']), 'enabled': entry.get('enabled', True)}
        meta = {'last_run_at': _datetime(entry), 'total_run_count': entry.get('total_run_count', 0)}
        client.hset(key, mapping={'definition': json.dumps(definition), 'meta': json.dumps(meta)})
        client.zadd(prefix + ':schedule', {key: 0})
        client.sadd(prefix + ':statics', entry['name'])
    client.set(prefix + ':lock', 'token')


if __name__ == '__main__':
    main()
