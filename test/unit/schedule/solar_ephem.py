"""Solar events by ephem, observed as Celery's solar schedule observes them (elevation 0, pressure 0, a horizon
and use_center per event; dusk_astronomical at -18 degrees, as from Celery 5.6.3). Reads a JSON request on stdin:
{"cases": [{"event", "lat", "lon"}], "from": epoch ms, "to": epoch ms}; writes, per case, every event in
[from, to) in epoch ms. Where ephem finds no crossing (polar day or night, where Celery raises), the search goes
on an hour later, so the list holds each day that has the event."""
import json
import sys

import ephem

EVENTS = {
    'dawn_astronomical': ('-18', 'next_rising', True),
    'dawn_nautical': ('-12', 'next_rising', True),
    'dawn_civil': ('-6', 'next_rising', True),
    'sunrise': ('-0:34', 'next_rising', False),
    'solar_noon': ('0', 'next_transit', False),
    'sunset': ('-0:34', 'next_setting', False),
    'dusk_civil': ('-6', 'next_setting', True),
    'dusk_nautical': ('-12', 'next_setting', True),
    'dusk_astronomical': ('-18', 'next_setting', True),
}
UNIX_EPOCH = ephem.Date('1970/1/1 00:00:00')


def to_ms(date):
    return round((float(date) - float(UNIX_EPOCH)) * 86400000)


def to_date(ms):
    return ephem.Date(float(UNIX_EPOCH) + ms / 86400000)


def events(case, start, end):
    horizon, method, use_center = EVENTS[case['event']]
    observer = ephem.Observer()
    observer.lat = str(case['lat'])
    observer.lon = str(case['lon'])
    observer.elevation = 0
    observer.pressure = 0
    observer.horizon = horizon
    found = []
    at = start
    while at < end:
        try:
            kwargs = {'use_center': True} if use_center else {}
            ms = to_ms(getattr(observer, method)(ephem.Sun(), start=to_date(at), **kwargs))
        except (ephem.AlwaysUpError, ephem.NeverUpError):
            at += 3600000
            continue
        if ms < end:
            found.append(ms)
        at = ms + 1000
    return found


request = json.load(sys.stdin)
json.dump([events(case, request['from'], request['to']) for case in request['cases']], sys.stdout)
