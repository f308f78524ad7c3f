"""A program that uses celerybeat-redis's documented storage format, as its users' own code does: one JSON
string per schedule at <prefix><name>, datetimes as {"__type__": "datetime", ...} objects. Written from the
format's description only. Commands (argv[1]): write, edit-args, delete, race-edit, load."""
import datetime
import json
import sys
import time

import redis
from celery.schedules import crontab, schedule


def decode(obj):
    if obj.get("__type__") == "datetime":
        fields = {k: v for k, v in obj.items() if k != "__type__"}
        return datetime.datetime(**fields)
    return obj


def encode(value):
    if isinstance(value, datetime.datetime):
        return {"__type__": "datetime", "year": value.year, "month": value.month, "day": value.day,
                "hour": value.hour, "minute": value.minute, "second": value.second,
                "microsecond": value.microsecond}
    raise TypeError(repr(value))


def get(r, key):
    raw = r.get(key)
    return None if raw is None else json.loads(raw, object_hook=decode)


def put(r, key, doc):
    r.set(key, json.dumps(doc, default=encode))


def load(r, prefix):
    """celerybeat-redis's loader: every key under the prefix becomes an entry; one it cannot read fails the load."""
    entries = {}
    for key in sorted(k.decode() for k in r.keys(prefix + "*")):
        doc = get(r, key)
        if "interval" in doc:
            sched = schedule(datetime.timedelta(**{doc["interval"]["period"]: doc["interval"]["every"]}))
        elif "crontab" in doc:
            sched = crontab(**doc["crontab"])
        else:
            raise ValueError("%s has neither interval nor crontab" % key)
        entries[key] = {"task": doc["task"], "enabled": doc.get("enabled", True), "schedule": repr(sched),
                        "last_run_at": str(doc.get("last_run_at")), "total_run_count": doc.get("total_run_count")}
    return entries


def main():
    url, command, key = sys.argv[1], sys.argv[2], sys.argv[3]
    r = redis.Redis.from_url(url)
    if command == "write":
        every, extra = sys.argv[4], json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
        doc = {"name": key.split(":")[-1], "task": "tasks.record", "enabled": True,
               "interval": {"every": float(every), "period": "seconds"}, "args": ["v1"], "kwargs": {}}
        doc.update(extra)
        put(r, key, doc)
    elif command == "edit-args":
        doc = get(r, key)
        doc["args"] = [sys.argv[4]]
        put(r, key, doc)
    elif command == "delete":
        r.delete(key)
    elif command == "race-edit":
        # Read, wait until the scheduler has recorded a run after the read, then write back what was read
        # with an edit: the classic lost update, here against the scheduler's own run state.
        doc = get(r, key)
        seen = doc.get("total_run_count") or 0
        deadline = time.time() + 20
        while (get(r, key).get("total_run_count") or 0) <= seen:
            if time.time() > deadline:
                sys.exit("no run was recorded after the read")
            time.sleep(0.01)
        doc["kwargs"] = {"edited": sys.argv[4]}
        put(r, key, doc)
        print(json.dumps({"read_count": seen}))
    elif command == "load":
        print(json.dumps(load(r, key)))


main()
