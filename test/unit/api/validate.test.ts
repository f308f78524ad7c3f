// The validator: normalisation of valid manifests, and the table of invalid ones each naming its field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validatePeriodicTask } from '../../../src/validation/validate.ts';
import { INVALID_CASES, invalidManifest } from './invalid-manifests.ts';

const manifest = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'demo' }) => ({
  apiVersion: 'celerybeat.io/v1alpha1',
  kind: 'PeriodicTask',
  metadata,
  spec,
});

test('a minimal interval task gets the defaults', () => {
  const r = validatePeriodicTask(
    manifest({ task: 'tasks.add', interval: { every: 30, period: 'seconds' } }),
    {
      defaultTimeZone: 'Europe/Berlin',
    },
  );
  assert.ok(r.ok);
  assert.deepEqual(r.definition, {
    namespace: 'default',
    name: 'demo',
    uid: '',
    generation: 0,
    task: 'tasks.add',
    schedule: { kind: 'interval', every: 30, period: 'seconds' },
    timeZone: 'Europe/Berlin',
    enabled: true,
    args: [],
    kwargs: {},
    options: { queue: 'celery', headers: {} },
    oneOff: false,
  });
});

test('cron becomes crontab fields; omitted crontab fields are "*"; times become epoch ms', () => {
  const cron = validatePeriodicTask(
    manifest({ task: 't', cron: ' 30  7 * * mon-fri ', timeZone: 'Asia/Kolkata' }),
    {
      defaultTimeZone: 'UTC',
    },
  );
  assert.ok(cron.ok);
  assert.deepEqual(cron.definition.schedule, {
    kind: 'crontab',
    minute: '30',
    hour: '7',
    dayOfMonth: '*',
    monthOfYear: '*',
    dayOfWeek: 'mon-fri',
  });
  assert.equal(cron.definition.timeZone, 'Asia/Kolkata');
  const crontab = validatePeriodicTask(
    manifest({ task: 't', crontab: { hour: '3' }, startTime: '2026-12-01T00:00:00+01:00' }),
    {
      defaultTimeZone: 'UTC',
    },
  );
  assert.ok(crontab.ok);
  assert.deepEqual(crontab.definition.schedule, {
    kind: 'crontab',
    minute: '*',
    hour: '3',
    dayOfWeek: '*',
    dayOfMonth: '*',
    monthOfYear: '*',
  });
  assert.equal(crontab.definition.startTime, Date.UTC(2026, 10, 30, 23));
  const clocked = validatePeriodicTask(manifest({ task: 't', clocked: '2026-12-24T18:00:00.250Z' }), {
    defaultTimeZone: 'UTC',
  });
  assert.ok(clocked.ok);
  assert.deepEqual(clocked.definition.schedule, {
    kind: 'clocked',
    at: Date.UTC(2026, 11, 24, 18, 0, 0, 250),
  });
});

test('every option, metadata and free JSON are carried over; null fields count as absent', () => {
  const r = validatePeriodicTask(
    manifest(
      {
        task: 'tasks.add',
        interval: { every: 1, period: 'days' },
        cron: null,
        args: [1, null, { a: [true] }],
        kwargs: { x: null },
        options: {
          queue: 'q2',
          exchange: '',
          routingKey: 'rk',
          priority: 9,
          expires: 1.5,
          headers: { tenant: 'acme' },
          timeLimit: 30,
          softTimeLimit: 20,
        },
        enabled: false,
        oneOff: true,
        startingDeadlineSeconds: 60,
        description: 'd',
      },
      { name: 'n', namespace: 'ns', uid: 'u-1', generation: 4 },
    ),
    { defaultTimeZone: 'UTC' },
  );
  assert.ok(r.ok, JSON.stringify(r));
  const d = r.definition;
  assert.deepEqual(
    [d.namespace, d.name, d.uid, d.generation, d.enabled, d.oneOff],
    ['ns', 'n', 'u-1', 4, false, true],
  );
  assert.deepEqual(d.args, [1, null, { a: [true] }]);
  assert.deepEqual(d.kwargs, { x: null });
  assert.deepEqual(d.options, {
    queue: 'q2',
    exchange: '',
    routingKey: 'rk',
    priority: 9,
    expires: 1.5,
    headers: { tenant: 'acme' },
    timeLimit: 30,
    softTimeLimit: 20,
  });
  assert.equal(d.startingDeadlineSeconds, 60);
  assert.equal(d.description, 'd');
});

test('the wrong kind or apiVersion, and an unknown operator default zone, are named', () => {
  const r = validatePeriodicTask(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, spec: { task: 't', cron: '* * * * *' } },
    { defaultTimeZone: 'UTC' },
  );
  assert.ok(!r.ok);
  assert.deepEqual(
    r.errors.map((e) => e.field),
    ['apiVersion', 'kind'],
  );
  const zone = validatePeriodicTask(manifest({ task: 't', cron: '* * * * *' }), {
    defaultTimeZone: 'Nowhere/Land',
  });
  assert.ok(!zone.ok);
  assert.equal(zone.errors[0]!.field, 'spec.timeZone');
  assert.match(zone.errors[0]!.message, /Nowhere\/Land/);
  assert.ok(!validatePeriodicTask('text', { defaultTimeZone: 'UTC' }).ok);
});

for (const c of INVALID_CASES) {
  test(`invalid: ${c.name} is rejected naming ${c.field}`, () => {
    const r = validatePeriodicTask(invalidManifest(c), { defaultTimeZone: 'UTC' });
    assert.ok(!r.ok, 'accepted');
    assert.ok(
      r.errors.some((e) => e.field === c.field),
      `fields named: ${r.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    );
  });
}

test('concurrencyPolicy Forbid and Replace need the result backend; Allow is the default', () => {
  const task = (policy?: string) => ({
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: 'p', namespace: 'ns' },
    spec: {
      task: 't',
      interval: { every: 1, period: 'seconds' },
      ...(policy ? { concurrencyPolicy: policy } : {}),
    },
  });
  const allow = validatePeriodicTask(task(), { defaultTimeZone: 'UTC', resultBackend: false });
  assert.ok(allow.ok && allow.definition.concurrencyPolicy === undefined);
  const without = validatePeriodicTask(task('Forbid'), { defaultTimeZone: 'UTC', resultBackend: false });
  assert.deepEqual(without.ok ? [] : without.errors.map((e) => e.field), ['spec.concurrencyPolicy']);
  assert.match(without.ok ? '' : without.errors[0]!.message, /--result-backend/);
  const withBackend = validatePeriodicTask(task('Replace'), { defaultTimeZone: 'UTC', resultBackend: true });
  assert.ok(withBackend.ok && withBackend.definition.concurrencyPolicy === 'Replace');
  const bad = validatePeriodicTask(task('Sometimes'), { defaultTimeZone: 'UTC' });
  assert.deepEqual(bad.ok ? [] : bad.errors.map((e) => e.field), ['spec.concurrencyPolicy']);
});
