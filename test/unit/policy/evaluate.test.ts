// The policy evaluator and its parts: patterns, selectors, sizes, the spacing of schedules, and several
// policies on one namespace adding up to the stricter rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type {
  PeriodicTask,
  PeriodicTaskPolicy,
  PeriodicTaskPolicySpec,
  TaskDefinition,
} from '../../../src/api/types.ts';
import type { PolicySource } from '../../../src/contracts.ts';
import { describeViolations, evaluatePolicies } from '../../../src/policy/evaluate.ts';
import { jsonBytes, jsonDepth } from '../../../src/policy/json-measure.ts';
import { selects } from '../../../src/policy/label-selector.ts';
import { matchesPattern } from '../../../src/policy/name-pattern.ts';
import { PolicyBook } from '../../../src/policy/policy-book.ts';
import { readPolicy } from '../../../src/policy/read-policy.ts';
import { shortestSpacingUs } from '../../../src/policy/schedule-spacing.ts';
import { validatePeriodicTask } from '../../../src/validation/validate.ts';

function policy(name: string, spec: Partial<PeriodicTaskPolicySpec>): PeriodicTaskPolicy {
  return {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTaskPolicy',
    metadata: { name },
    spec: { namespaceSelector: {}, ...spec },
  };
}

function def(spec: Record<string, unknown>, annotations?: Record<string, string>): TaskDefinition {
  const object: PeriodicTask = {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: 't', namespace: 'team-a', ...(annotations ? { annotations } : {}) },
    spec: { task: 'app.report', interval: { every: 5, period: 'minutes' }, ...spec } as PeriodicTask['spec'],
  };
  const result = validatePeriodicTask(object, { defaultTimeZone: 'UTC', resultBackend: true });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.definition;
}

const rulesOf = (p: PeriodicTaskPolicy[], d: TaskDefinition, extra: object = {}) =>
  evaluatePolicies(p, { def: d, ...extra }).enforced.map((v) => v.rule);

test('patterns: * is any run of characters, nothing else is special', () => {
  assert.ok(matchesPattern('app.*', 'app.reports.daily'));
  assert.ok(matchesPattern('*', ''));
  assert.ok(matchesPattern('a*b*c', 'abc'));
  assert.ok(matchesPattern('a*b*c', 'axxbyyc'));
  assert.ok(!matchesPattern('a*b*c', 'acb'));
  assert.ok(!matchesPattern('app.*', 'appxy'));
  assert.ok(!matchesPattern('a?c', 'abc'), '? is itself');
  assert.ok(!matchesPattern('ab*ba', 'aba'), 'the parts do not overlap');
});

test('label selectors: matchLabels and every operator; the empty selector selects everything', () => {
  const labels = { team: 'a', tier: 'prod' };
  assert.ok(selects({}, labels));
  assert.ok(selects({ matchLabels: { team: 'a' } }, labels));
  assert.ok(!selects({ matchLabels: { team: 'b' } }, labels));
  assert.ok(selects({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['prod', 'qa'] }] }, labels));
  assert.ok(!selects({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['prod'] }] }, labels));
  assert.ok(selects({ matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['prod'] }] }, labels));
  assert.ok(selects({ matchExpressions: [{ key: 'team', operator: 'Exists' }] }, labels));
  assert.ok(!selects({ matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] }, labels));
});

test('sizes are bytes of the JSON text; depth counts lists and objects', () => {
  assert.equal(jsonBytes(['é']), 6);
  assert.equal(jsonDepth(1), 0);
  assert.equal(jsonDepth([]), 1);
  assert.equal(jsonDepth({ a: [1, { b: [] }] }), 4);
});

test('spacing: intervals, @every, crontab minutes and hours in wall time, clocked runs once', () => {
  assert.equal(shortestSpacingUs({ kind: 'interval', every: 1500, period: 'microseconds' }), 1500);
  assert.equal(shortestSpacingUs(def({ interval: undefined, cron: '@every 90s' }).schedule), 90_000_000);
  const minutes = (crontab: Record<string, string>) =>
    (shortestSpacingUs(def({ interval: undefined, crontab }).schedule) ?? 0) / 60_000_000;
  assert.equal(minutes({ minute: '*' }), 1);
  assert.equal(minutes({ minute: '0,20,30' }), 10);
  assert.equal(minutes({ minute: '50,5', hour: '3,4' }), 15, '4:05 follows 3:50');
  assert.equal(minutes({ minute: '0', hour: '9' }), 24 * 60);
  assert.equal(minutes({ minute: '30', hour: '1,23' }), 120, 'from 23:30 to 1:30 the next day');
  assert.equal(
    (shortestSpacingUs(def({ interval: undefined, cron: '*/5 9-17 * * 1-5' }).schedule) ?? 0) / 60e6,
    5,
  );
  assert.equal(shortestSpacingUs({ kind: 'clocked', at: 0 }), null);
});

test('each rule names itself and the value; complying tasks have no violation', () => {
  const strict = policy('strict', {
    allowedTaskNames: ['app.*'],
    deniedTaskNames: ['app.admin.*'],
    allowedQueues: ['team-a.*'],
    allowedExchanges: ['team-a'],
    allowedRoutingKeys: ['team-a.*'],
    maxPriority: 3,
    allowedHeaders: ['trace_*'],
    maxArgsBytes: 20,
    maxKwargsBytes: 20,
    maxHeadersBytes: 40,
    maxJsonDepth: 2,
    minIntervalSeconds: 60,
    allowReplace: false,
    allowRunNow: false,
    maxBackfillSlots: 10,
  });
  const ok = def({
    options: { queue: 'team-a.reports', priority: 3, headers: { trace_id: 'x' } },
    args: [1],
  });
  assert.deepEqual(evaluatePolicies([strict], { def: ok }), { enforced: [], warned: [] });
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ task: 'celery.backend_cleanup' }, 'allowedTaskNames', /task "celery.backend_cleanup" is not in/],
    [{ task: 'app.admin.drop' }, 'deniedTaskNames', /matches deniedTaskNames "app.admin.\*"/],
    [{ options: { queue: 'team-b' } }, 'allowedQueues', /queue "team-b"/],
    [{ options: { queue: 'team-a.q', exchange: 'team-b' } }, 'allowedExchanges', /exchange "team-b"/],
    [{ options: { queue: 'team-a.q', routingKey: 'x' } }, 'allowedRoutingKeys', /routing key "x"/],
    [{ options: { queue: 'team-a.q', priority: 255 } }, 'maxPriority', /priority 255 is above maxPriority 3/],
    [{ options: { queue: 'team-a.q', headers: { tenant: 'b' } } }, 'allowedHeaders', /header "tenant"/],
    [{ args: ['x'.repeat(100)] }, 'maxArgsBytes', /args are 104 bytes, above maxArgsBytes 20/],
    [{ kwargs: { k: 'x'.repeat(30) } }, 'maxKwargsBytes', /kwargs are \d+ bytes/],
    [{ args: [[[1]]] }, 'maxJsonDepth', /args nest 3 levels, above maxJsonDepth 2/],
    [
      { interval: { every: 1, period: 'seconds' } },
      'minIntervalSeconds',
      /1 s apart, below minIntervalSeconds 60/,
    ],
    [{ concurrencyPolicy: 'Replace' }, 'allowReplace', /Replace/],
  ];
  for (const [spec, rule, message] of cases) {
    const d = def({ options: { queue: 'team-a.q' }, ...spec });
    const { enforced } = evaluatePolicies([strict], { def: d });
    assert.ok(
      enforced.some((v) => v.rule === rule && message.test(v.message)),
      `${rule}: ${describeViolations(enforced)}`,
    );
  }
  const queued = def({ options: { queue: 'team-a.q' } });
  assert.deepEqual(rulesOf([strict], queued, { annotations: { 'celerybeat.io/run-now': '1' } }), [
    'allowRunNow',
  ]);
  assert.deepEqual(
    rulesOf([strict], queued, { annotations: { 'celerybeat.io/run-now': '1' }, status: { lastRunNow: '1' } }),
    [],
    'a run-now handled before is no request',
  );
  const day = { 'celerybeat.io/backfill': '2026-01-01T00:00:00Z/2026-01-01T01:00:00Z' };
  assert.deepEqual(
    rulesOf([strict], queued, { annotations: day }),
    ['maxBackfillSlots'],
    '13 slots: over 10',
  );
  const half = { 'celerybeat.io/backfill': '2026-01-01T00:00:00Z/2026-01-01T00:30:00Z' };
  assert.deepEqual(rulesOf([strict], queued, { annotations: half }), [], '7 slots');
});

test('two policies on one namespace: both apply; Warn violations are reported, not enforced', () => {
  const loose = policy('loose', { maxPriority: 9, allowedQueues: ['*'] });
  const tight = policy('tight', { maxPriority: 3 });
  const warn = policy('warn', { mode: 'Warn', allowedQueues: ['other'] });
  const d = def({ options: { priority: 5 } });
  const verdict = evaluatePolicies([loose, tight, warn], { def: d });
  assert.deepEqual(
    verdict.enforced.map((v) => `${v.policy}/${v.rule}`),
    ['tight/maxPriority'],
  );
  assert.deepEqual(
    verdict.warned.map((v) => `${v.policy}/${v.rule}`),
    ['warn/allowedQueues'],
  );
  assert.equal(
    describeViolations(verdict.enforced),
    'PeriodicTaskPolicy tight: priority 5 is above maxPriority 3',
  );
});

test('the book selects by namespace labels, hand-written keys have none, and a change is seen at once', () => {
  let policies: PeriodicTaskPolicy[] = [
    policy('a', { namespaceSelector: { matchLabels: { team: 'a' } }, maxPriority: 0 }),
  ];
  const source: PolicySource = {
    start: async () => {},
    policies: () => policies,
    namespaceLabels: (ns): Record<string, string> =>
      ns === 'team-a' ? { team: 'a' } : { 'kubernetes.io/metadata.name': ns },
    synced: () => true,
    stop: async () => {},
  };
  const book = new PolicyBook(source);
  assert.deepEqual(
    book.forNamespace('team-a').map((p) => p.metadata.name),
    ['a'],
  );
  assert.deepEqual(book.forNamespace('team-b'), []);
  assert.deepEqual(book.forNamespace(''), []);
  const version = book.version;
  policies = [policy('all', {})];
  assert.deepEqual(book.forNamespace('team-b'), [], 'cached until told');
  book.changed();
  assert.ok(book.version > version);
  assert.deepEqual(
    book.forNamespace('team-b').map((p) => p.metadata.name),
    ['all'],
  );
  assert.deepEqual(
    book.forNamespace('').map((p) => p.metadata.name),
    ['all'],
    'the empty selector selects it too',
  );
});

test('policy documents are read against the CRD schema', () => {
  assert.equal(readPolicy(policy('p', { maxPriority: 3 })).ok, true);
  const bad = readPolicy({
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTaskPolicy',
    metadata: { name: 'p' },
    spec: { namespaceSelector: { matchLabels: { team: 1 } }, maxPriority: 300, maxPriorty: 1 },
  });
  assert.equal(bad.ok, false);
  assert.deepEqual(!bad.ok && bad.errors.map((e) => e.field).sort(), [
    'spec.maxPriority',
    'spec.maxPriorty',
    'spec.namespaceSelector.matchLabels.team',
  ]);
});

test("a namespace's run rate is the lowest maxRunsPerSecond of its Enforce policies; Warn policies only report", () => {
  const policies = [
    policy('loose', { maxRunsPerSecond: 50 }),
    policy('strict', { maxRunsPerSecond: 5 }),
    policy('trial', { mode: 'Warn', maxRunsPerSecond: 1 }),
    policy('other-team', { namespaceSelector: { matchLabels: { team: 'b' } }, maxRunsPerSecond: 2 }),
  ];
  const source: PolicySource = {
    start: async () => {},
    policies: () => policies,
    namespaceLabels: () => ({ team: 'a' }),
    synced: () => true,
    stop: async () => {},
  };
  const book = new PolicyBook(source);
  assert.equal(book.runsPerSecond('team-a'), 5);
  policies.splice(0, 2);
  book.changed();
  assert.equal(book.runsPerSecond('team-a'), undefined, 'no Enforce policy sets one');
  assert.deepEqual(readPolicy({ ...policy('p', { maxRunsPerSecond: 0 }) }).ok, false, 'at least 1');
});
