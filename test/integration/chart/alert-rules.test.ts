// The chart's alert rules, as `helm template` renders them, evaluated by promtool against metrics scraped from
// a real operator run on the test bed: a standby while another holder keeps the Lease, then the leader with a
// key Redis cannot read and status writes slower than the chart's qps, then the broker gone, then back. Each
// scrape, a second apart, is fed to promtool as 30 seconds, so the rules' `for` durations pass within a run of
// under two minutes (the failing publishes, a few seconds apart, still fall within every rate window); the values
// are the ones the operator exported.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import {
  type OperatorNamespace,
  operatorNamespace,
  periodicTask,
  startClusterOperator,
} from '../../support/operator-cluster.ts';
import { counterValue, type OperatorProcess } from '../../support/operator-process.ts';
import { waitUntil } from '../../support/ports.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';
import { promtool } from '../../testbed/binaries.ts';
import { type ClusterHandle, sharedCluster } from '../../testbed/cluster.ts';
import { find, render } from './chart.ts';

const run = promisify(execFile);
/** What a ServiceMonitor scrape of release `beat` in namespace `ops` labels every series with. */
const targetLabels = 'namespace="ops",service="beat-celerybeat-operator-metrics",pod="beat-0"';
const tasks = 10;
/** How long the foreign holder's Lease keeps the operator a standby. */
const foreignLeaseSeconds = 20;
/** promtool seconds per scrape. */
const step = 30;

/** One scrape: series (name and labels as exposed) → value. */
type Scrape = Map<string, number>;

/** The operator's own series of a /metrics text, with the labels of the scrape target added. */
function parseScrape(text: string): Scrape {
  const scrape: Scrape = new Map();
  for (const line of text.split('\n')) {
    const match = /^((?:celerybeat|leader_election)_[a-z_]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    const labels = match[2] ? `${match[2]},${targetLabels}` : targetLabels;
    scrape.set(`${match[1]}{${labels}}`, Number(match[3]));
  }
  return scrape;
}

/** promtool's input series: each scrape `step` seconds apart, `_` where a series was not exported yet. */
function inputSeries(scrapes: Scrape[]): { series: string; values: string }[] {
  const names = new Set(scrapes.flatMap((s) => [...s.keys()]));
  return [...names].map((series) => ({
    series,
    values: scrapes.map((s) => (s.has(series) ? String(s.get(series)) : '_')).join(' '),
  }));
}

const firing = (alertname: string, scrape: number, fires: boolean) => ({
  expr: `ALERTS{alertname="${alertname}",alertstate="firing"}`,
  eval_time: `${scrape * step}s`,
  exp_samples: fires
    ? [
        {
          labels: `ALERTS{alertname="${alertname}",alertstate="firing",namespace="ops",service="beat-celerybeat-operator-metrics",severity="${alertname === 'CelerybeatOperatorNoLeader' || alertname === 'CelerybeatOperatorDispatchesFailing' ? 'critical' : 'warning'}"}`,
          value: 1,
        },
      ]
    : [],
});

let cluster: ClusterHandle;
let ns: OperatorNamespace;
let store: RedisServer;
let broker: RedisServer;
let operator: OperatorProcess | undefined;
let dir: string;

describe('the PrometheusRule against the metrics of a real run', { timeout: 300_000 }, () => {
  before(async () => {
    cluster = await sharedCluster();
    ns = await operatorNamespace(cluster, 'chart-alerts');
    store = await startRedisServer();
    broker = await startRedisServer();
    dir = await mkdtemp(join(tmpdir(), 'chart-alerts-'));
  });

  after(async () => {
    await operator?.stop();
    await store?.stop();
    await broker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('each alert fires on the run that shows its problem, and only then', async () => {
    const rendered = await render([
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--api-versions',
      'monitoring.coreos.com/v1',
    ]);
    const rule = find(rendered, 'PrometheusRule');
    const rulesFile = join(dir, 'rules.yaml');
    await writeFile(rulesFile, stringify(rule.spec));

    // A key under the prefix that is not JSON, as a hand-edit or another program leaves it.
    const redis = new Redis(store.url);
    await redis.set('tasks:meta:written-by-hand', 'not json');
    redis.disconnect();
    // Another holder keeps the Lease for a while: this replica is a standby.
    const now = new Date().toISOString().replace(/Z$/, '000Z');
    await cluster.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'celerybeat-operator', namespace: ns.namespace },
        spec: {
          holderIdentity: 'a-pod-that-is-gone',
          leaseDurationSeconds: foreignLeaseSeconds,
          acquireTime: now,
          renewTime: now,
        },
      }),
    });
    for (let i = 0; i < tasks; i++) {
      await cluster.kubectl(['apply', '-f', '-'], {
        input: periodicTask(ns.namespace, `every-second-${i}`, {
          interval: { every: 1, period: 'seconds' },
          startingDeadlineSeconds: 2,
        }),
      });
    }

    // Status writes at 0.2 a second, the way an API server that takes writes slower than the chart's qps
    // (20, the rule's bound) holds them back.
    operator = startClusterOperator(ns, store.url, [
      '--broker-url',
      broker.url,
      '--lease-namespace',
      ns.namespace,
      '--kube-api-qps',
      '0.2',
      '--kube-api-burst',
      '1',
    ]);
    const op = operator;
    await op.waitForLog('metrics port', (l) => typeof l.metricsPort === 'number', 30_000);
    const scrapes: Scrape[] = [];
    const texts: string[] = [];
    const scrape = async (): Promise<void> => {
      const text = await op.metrics();
      texts.push(text);
      scrapes.push(parseScrape(text));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    };
    const leading = () => op.logs().some((l) => l.msg === 'became leader');

    while (!leading()) await scrape();
    const standbyEnd = scrapes.length - 1;
    assert.ok(standbyEnd >= 12, `only ${standbyEnd + 1} scrapes as a standby: the foreign Lease ended early`);
    for (let i = 0; i < 35; i++) await scrape();
    const leadingEnd = scrapes.length - 1;
    const publishedBefore = counterValue(
      texts.at(-1) ?? '',
      'celerybeat_dispatches_total{result="published"}',
    );
    assert.ok(publishedBefore > 0, 'the leader published runs');

    await broker.down();
    await waitUntil(
      'dispatches failing',
      async () => counterValue(await op.metrics(), 'celerybeat_dispatches_total{result="failed"}') > 0,
      20_000,
    );
    for (let i = 0; i < 22; i++) await scrape();
    const brokerDownEnd = scrapes.length - 1;

    await broker.up();
    for (let i = 0; i < 20; i++) await scrape();
    const end = scrapes.length - 1;
    const last = texts.at(-1) ?? '';
    assert.ok(
      counterValue(last, 'celerybeat_dispatches_total{result="published"}') > publishedBefore,
      'the leader published again once the broker was back',
    );
    assert.ok(counterValue(last, 'celerybeat_missed_runs_total') > 0, 'the slots of the outage were missed');

    const alerts = [
      'CelerybeatOperatorNoLeader',
      'CelerybeatOperatorDispatchesFailing',
      'CelerybeatOperatorMissedRunsRising',
      'CelerybeatOperatorStatusLagging',
      'CelerybeatOperatorInternalErrors',
      'CelerybeatOperatorInvalidStoreKeys',
    ];
    const testFile = join(dir, 'rules.test.yaml');
    await writeFile(
      testFile,
      stringify({
        rule_files: [rulesFile],
        evaluation_interval: `${step}s`,
        tests: [
          {
            interval: `${step}s`,
            input_series: inputSeries(scrapes),
            promql_expr_test: [
              // Nothing fires before any `for` has passed.
              ...alerts.map((a) => firing(a, 0, false)),
              // A standby, and no leader, for more than 5 minutes.
              firing('CelerybeatOperatorNoLeader', standbyEnd, true),
              firing('CelerybeatOperatorDispatchesFailing', standbyEnd, false),
              // Leading, the broker up: dispatches succeed; status lags; the unreadable key is seen.
              firing('CelerybeatOperatorNoLeader', leadingEnd, false),
              firing('CelerybeatOperatorDispatchesFailing', leadingEnd, false),
              firing('CelerybeatOperatorStatusLagging', leadingEnd, true),
              firing('CelerybeatOperatorInvalidStoreKeys', leadingEnd, true),
              // The broker gone: dispatches fail.
              firing('CelerybeatOperatorDispatchesFailing', brokerDownEnd, true),
              firing('CelerybeatOperatorMissedRunsRising', brokerDownEnd, false),
              // The broker back: the outage's slots are missed at once; dispatches succeed again.
              firing('CelerybeatOperatorMissedRunsRising', end, true),
              firing('CelerybeatOperatorDispatchesFailing', end, false),
              firing('CelerybeatOperatorNoLeader', end, false),
              // No defect in the whole run.
              ...[standbyEnd, leadingEnd, brokerDownEnd, end].map((m) =>
                firing('CelerybeatOperatorInternalErrors', m, false),
              ),
            ],
          },
        ],
      }),
    );
    try {
      await run(await promtool(), ['test', 'rules', testFile]);
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      const recorded = inputSeries(scrapes)
        .filter((s) =>
          /^celerybeat_(dispatches_total|missed_runs_total|leader|status_lag_seconds)\b/.test(s.series),
        )
        .map((s) => `${s.series} ${s.values}`)
        .join('\n');
      assert.fail(
        `promtool test rules failed (scrapes ${step} s apart: standby to ${standbyEnd}, leading to ${leadingEnd}, broker gone to ${brokerDownEnd}, back to ${end}):\n${stdout}\n${stderr}\nrecorded:\n${recorded}`,
      );
    }
  });

  test('the rules and every dashboard query are valid PromQL to promtool', async () => {
    const rendered = await render([
      '--set',
      'metrics.prometheusRule.enabled=true',
      '--set',
      'metrics.grafanaDashboard.enabled=true',
      '--api-versions',
      'monitoring.coreos.com/v1',
    ]);
    const rules = join(dir, 'check-rules.yaml');
    await writeFile(rules, stringify(find(rendered, 'PrometheusRule').spec));
    await run(await promtool(), ['check', 'rules', rules]);

    const data = find(rendered, 'ConfigMap').data as Record<string, string>;
    const dashboard = JSON.parse(data['celerybeat-operator.json'] ?? '') as {
      panels: { targets?: { expr: string }[] }[];
    };
    // Grafana's variables filled in as Grafana would, each query a recording rule for promtool to parse.
    const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const recording = {
      groups: [
        {
          name: 'dashboard',
          rules: queries.map((expr, i) => ({
            record: `dashboard:query_${i}`,
            expr: expr
              .replaceAll('$__rate_interval', '2m')
              .replaceAll('$namespace', 'ops')
              .replaceAll('$service', 'beat-celerybeat-operator-metrics'),
          })),
        },
      ],
    };
    const file = join(dir, 'dashboard-queries.yaml');
    await writeFile(file, stringify(recording));
    const { stdout } = await run(await promtool(), ['check', 'rules', file]);
    assert.match(stdout, new RegExp(`SUCCESS: ${queries.length} rules found`));
  });
});
