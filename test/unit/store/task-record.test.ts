import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TaskDefinition } from '../../../src/api/types.ts';
import type { RunState } from '../../../src/contracts.ts';
import { decodeDatetime, encodeDatetime } from '../../../src/store/datetime.ts';
import {
  decodeRunStateTail,
  decodeTaskValue,
  encodeRunStateTail,
  encodeTaskValue,
} from '../../../src/store/task-record.ts';

export const definition: TaskDefinition = {
  namespace: 'default',
  name: 'add-every-30-seconds',
  uid: '6f1c9a52-0000-4000-8000-000000000001',
  generation: 1,
  task: 'tasks.add',
  schedule: { kind: 'interval', every: 30, period: 'seconds' },
  timeZone: 'UTC',
  enabled: true,
  args: [],
  kwargs: { nested: { last_run_at: 1 }, note: ',"last_run_at":' },
  options: { queue: 'q2', priority: 5, expires: 60, headers: { tenant: 'acme' } },
  oneOff: false,
};

const state: RunState = {
  cursor: Date.UTC(2026, 10, 24, 10, 0, 0, 123) + 0.456,
  totalRunCount: 3,
  lastTaskId: 'b46739f1-0000-5000-8000-000000000000',
  lastTaskSlot: Date.UTC(2026, 10, 24, 10, 0, 0, 123),
  missedRunCount: 1,
};

test('datetimes are UTC wall-clock fields with microseconds, and decode back', () => {
  const ms = Date.UTC(2026, 10, 24, 7, 0, 30, 123) + 0.456;
  assert.deepEqual(encodeDatetime(ms), {
    __type__: 'datetime',
    year: 2026,
    month: 11,
    day: 24,
    hour: 7,
    minute: 0,
    second: 30,
    microsecond: 123456,
  });
  assert.equal(decodeDatetime(encodeDatetime(ms)), ms);
  assert.throws(() => decodeDatetime({ __type__: 'datetime', year: 2026, month: 13, day: 1 }), /"month"/);
  assert.throws(() => decodeDatetime('2026-11-24'), /datetime/);
});

test('the value has the documented shape with the run state last', () => {
  const raw = encodeTaskValue(definition, state);
  const value = JSON.parse(raw);
  assert.deepEqual(Object.keys(value).slice(-5), [
    'last_run_at',
    'total_run_count',
    'last_task_id',
    'last_task_slot',
    'missed_run_count',
  ]);
  assert.equal(value.name, 'default/add-every-30-seconds');
  assert.deepEqual(value.interval, { every: 30, period: 'seconds' });
  assert.deepEqual(value.args, []);
  assert.equal(value.queue, 'q2');
  assert.equal(value.expires, 60);
  assert.deepEqual(value.options, { queue: 'q2', priority: 5, expires: 60, headers: { tenant: 'acme' } });
  assert.deepEqual(value.owner, { namespace: 'default', name: 'add-every-30-seconds', uid: definition.uid });
  assert.equal(value.total_run_count, 3);
  assert.deepEqual(decodeTaskValue(raw).runState, state);
});

test('the run-state tail round-trips and the last marker is the real one', () => {
  const tail = encodeRunStateTail(state);
  assert.deepEqual(decodeRunStateTail(tail), state);
  const raw = encodeTaskValue(definition, state);
  assert.equal(raw.slice(raw.lastIndexOf(',"last_run_at":')), tail);
});

test('crontab fields are strings under the celerybeat-redis names', () => {
  const value = JSON.parse(
    encodeTaskValue(
      {
        ...definition,
        schedule: {
          kind: 'crontab',
          minute: '30',
          hour: '7',
          dayOfWeek: '1',
          dayOfMonth: '*',
          monthOfYear: '*',
        },
      },
      state,
    ),
  );
  assert.deepEqual(value.crontab, {
    minute: '30',
    hour: '7',
    day_of_week: '1',
    day_of_month: '*',
    month_of_year: '*',
  });
});

test('unreadable values are reported with the reason', () => {
  assert.throws(() => decodeTaskValue('{not json'), /not valid JSON/);
  assert.throws(() => decodeTaskValue('[1]'), /not a JSON object/);
  assert.deepEqual(decodeTaskValue('{"task":"x"}'), { owner: null, runState: null });
});
