"""Creates django-celery-beat's tables and rows with Django's ORM, as an application using it would.

    python3 django_beat_db.py DATABASE_JSON ROWS_JSON

DATABASE_JSON is a Django DATABASES["default"] entry; ROWS_JSON a list of periodic tasks:
{"name", "task", one of "interval": {"every", "period"}, "crontab": {"minute", ..., "timezone"},
"clocked": ISO, "solar": {"event", "latitude", "longitude"}; and any PeriodicTask model field
(args and kwargs and headers as JSON text; last_run_at, start_time and expires as ISO times)}.
The tables are made by `migrate`, the rows through the models' own save().
"""

import datetime
import json
import os
import sys
import tempfile


def _settings(database):
    directory = tempfile.mkdtemp(prefix='dcb-settings-')
    with open(os.path.join(directory, 'dcb_test_settings.py'), 'w') as f:
        f.write('SECRET_KEY = "test"\n')
        f.write('INSTALLED_APPS = ["django_celery_beat"]\n')
        f.write('USE_TZ = True\nTIME_ZONE = "UTC"\n')
        f.write('DATABASES = {"default": %r}\n' % (database,))
    sys.path.insert(0, directory)
    os.environ['DJANGO_SETTINGS_MODULE'] = 'dcb_test_settings'


def _time(text):
    return datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))


def main():
    database, rows = json.loads(sys.argv[1]), json.loads(sys.argv[2])
    _settings(database)
    import django
    django.setup()
    from django.core.management import call_command
    call_command('migrate', verbosity=0)
    from django_celery_beat import models

    for row in rows:
        fields = dict(row)
        if 'interval' in fields:
            fields['interval'] = models.IntervalSchedule.objects.create(**fields['interval'])
        if 'crontab' in fields:
            fields['crontab'] = models.CrontabSchedule.objects.create(**fields['crontab'])
        if 'clocked' in fields:
            fields['clocked'] = models.ClockedSchedule.objects.create(clocked_time=_time(fields['clocked']))
        if 'solar' in fields:
            fields['solar'] = models.SolarSchedule.objects.create(**fields['solar'])
        for name in ('last_run_at', 'start_time', 'expires'):
            if fields.get(name):
                fields[name] = _time(fields[name])
        models.PeriodicTask.objects.create(**fields)
    print(models.PeriodicTask.objects.count())


if __name__ == '__main__':
    main()
