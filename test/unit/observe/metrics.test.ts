import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dispatchLatenessSeconds, registry } from '../../../src/observe/metrics.ts';

test('the registry exposes the operator metrics, default metrics, and no per-task labels', async () => {
  const metrics = await registry.getMetricsAsJSON();
  const names = new Set(metrics.map((metric) => metric.name));
  for (const name of [
    'celerybeat_dispatches_total',
    'celerybeat_dispatch_lateness_seconds',
    'celerybeat_schedules',
    'celerybeat_missed_runs_total',
    'celerybeat_namespace_slots_total',
    'celerybeat_leader',
    'leader_election_master_status',
    'celerybeat_reconcile_total',
    'celerybeat_reconcile_errors_total',
    'celerybeat_watch_restarts_total',
    'celerybeat_status_lag_seconds',
    'celerybeat_store_invalid_keys',
    'process_cpu_seconds_total',
    'nodejs_eventloop_lag_seconds',
  ]) {
    assert.ok(names.has(name), `missing ${name}`);
  }
  const text = await registry.metrics();
  assert.doesNotMatch(text, /\b(task|key)="/);
  // A namespace label only on the metrics that are per namespace by design.
  for (const line of text.split('\n').filter((l) => /\btask_namespace="/.test(l)))
    assert.match(
      line,
      /^celerybeat_(namespace_slots_total|namespace_throttled_total|policy_violations_total)\{/,
    );
});

test('lateness buckets span 1 ms to 60 s', async () => {
  dispatchLatenessSeconds.observe(0.0005);
  dispatchLatenessSeconds.observe(45);
  const text = await registry.getSingleMetricAsString('celerybeat_dispatch_lateness_seconds');
  assert.match(text, /le="0.001"} 1/);
  assert.match(text, /le="60"} 2/);
  assert.match(text, /le="30"} 1/);
});
