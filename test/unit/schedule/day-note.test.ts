// crontabDayNote: a note exactly when Celery's AND of the day fields and a CronJob's OR differ.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crontabDayNote } from '../../../src/schedule/day-note.ts';

const note = (dayOfMonth: string, dayOfWeek: string): string | null =>
  crontabDayNote({ dayOfMonth, dayOfWeek });

test('both day fields restricted: one sentence naming both fields and both readings', () => {
  assert.equal(
    note('13', 'fri'),
    'dayOfMonth "13" and dayOfWeek "fri" must both match, as in Celery; a Kubernetes CronJob with the same fields runs on days that match either.',
  );
  for (const [dom, dow] of [
    ['1,15', 'mon-fri'],
    ['*/2', '1'],
    ['1-7', '*/2'], // a step drops the CronJob's star
    ['1-31', 'mon'], // full range without a star: a CronJob runs every day, Celery on Mondays
    ['13', '0-6'],
    [' 5', 'sun'],
  ]) {
    const text = note(dom!, dow!);
    assert.ok(text !== null, `${dom} / ${dow}`);
    assert.ok(text.includes(JSON.stringify(dom)) && text.includes(JSON.stringify(dow)), `${dom} / ${dow}`);
    assert.equal(text.split('. ').length, 1, 'one sentence');
  }
});

test('no note when the readings agree or a field does not parse', () => {
  for (const [dom, dow] of [
    ['*', '*'],
    ['13', '*'],
    ['*', 'fri'],
    ['*/1', 'fri'],
    ['1-31', '0-6'],
    ['*,13', 'fri'],
    ['32', 'fri'],
    ['13', 'jan'],
  ]) {
    assert.equal(note(dom!, dow!), null, `${dom} / ${dow}`);
  }
});
