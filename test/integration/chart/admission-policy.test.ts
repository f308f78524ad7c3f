// The chart's ValidatingAdmissionPolicy on a real API server: with the PeriodicTaskPolicies as its parameters,
// `kubectl apply` refuses a PeriodicTask whose task name, queue, priority, header, interval or Replace an
// Enforce policy of its namespace forbids, and accepts the complying one, one in a namespace no policy
// selects, and one that only a Warn policy forbids. The binding is limited to this test's namespaces.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { installCrd, periodicTask } from '../../support/operator-cluster.ts';
import { waitUntil } from '../../support/ports.ts';
import { type ClusterHandle, sharedCluster } from '../../testbed/cluster.ts';
import { CommandError } from '../../testbed/command.ts';
import { chartDir, helm, splitManifest } from './chart.ts';

const POLICY_CRD = new URL('../../../crds/celerybeat.io_periodictaskpolicies.yaml', import.meta.url);
const run = randomBytes(3).toString('hex');
const release = `adm${run}`;
const governed = `adm-governed-${run}`;
const free = `adm-free-${run}`;

let cluster: ClusterHandle;
let admissionObjects: string[] = [];

function policy(name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTaskPolicy',
    metadata: { name: `${name}-${run}` },
    spec: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': governed } }, ...spec },
  };
}

/**
 * The error text of an apply the API server refuses, or undefined when it accepts it. `dryRun`: admission runs
 * but nothing is stored (an apply of an object already stored unchanged sends nothing to refuse).
 */
async function refusal(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  dryRun = false,
): Promise<string | undefined> {
  try {
    const args = dryRun ? ['apply', '--dry-run=server', '-f', '-'] : ['apply', '-f', '-'];
    await cluster.kubectl(args, { input: periodicTask(namespace, name, spec) });
    return undefined;
  } catch (error) {
    if (error instanceof CommandError) return error.stderr;
    throw error;
  }
}

const every = { interval: { every: 1, period: 'minutes' } };

describe('the ValidatingAdmissionPolicy on a real API server', { timeout: 120_000 }, () => {
  before(async () => {
    cluster = await sharedCluster();
    await installCrd(cluster);
    await cluster.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
      input: await readFile(POLICY_CRD, 'utf8'),
    });
    await cluster.crdEstablished('periodictaskpolicies.celerybeat.io');
    for (const ns of [governed, free]) {
      await cluster.kubectl(['create', 'namespace', ns]);
      await cluster.kubectl(['label', 'namespace', ns, `e2e-admission=${run}`]);
    }
    const rendered = splitManifest(
      await helm([
        'template',
        release,
        chartDir,
        '--namespace',
        'ops',
        '--set',
        'admissionPolicy.enabled=true',
        // A label value is a string, also when the run's id is all digits.
        '--set-string',
        `admissionPolicy.namespaceSelector.matchLabels.e2e-admission=${run}`,
        '--api-versions',
        'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy',
      ]),
    ).filter((r) => r.object.kind.startsWith('ValidatingAdmissionPolicy'));
    assert.deepEqual(
      rendered.map((r) => r.object.kind),
      ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'],
    );
    admissionObjects = rendered.map((r) => `${r.object.kind.toLowerCase()}/${r.object.metadata.name}`);
    await cluster.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rendered.map((r) => r.object) }),
    });
    await cluster.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          policy('enforce', {
            allowedTaskNames: ['tasks.*'],
            deniedTaskNames: ['tasks.fail'],
            allowedQueues: ['team-a', 'team-a.*'],
            maxPriority: 3,
            allowedHeaders: ['trace_*'],
            minIntervalSeconds: 60,
            allowReplace: false,
          }),
          policy('warn', { mode: 'Warn', allowedQueues: ['nothing'] }),
        ],
      }),
    });
    // The policy and its parameters reach the API server's admission informers a moment after they are written.
    await waitUntil(
      'the admission policy to refuse a denied task name',
      async () =>
        (await refusal(
          governed,
          'probe',
          { ...every, task: 'tasks.fail', options: { queue: 'team-a' } },
          true,
        )) !== undefined,
      30_000,
      200,
    );
  });

  after(async () => {
    await cluster
      ?.kubectl([
        'delete',
        ...admissionObjects,
        `periodictaskpolicy/enforce-${run}`,
        `periodictaskpolicy/warn-${run}`,
        '--ignore-not-found',
      ])
      .catch(() => undefined);
  });

  test('each forbidden field is refused at apply, naming the policy and the rule', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        'name',
        { ...every, task: 'other.thing', options: { queue: 'team-a' } },
        /task "other.thing" is not in allowedTaskNames/,
      ],
      [
        'denied',
        { ...every, task: 'tasks.fail', options: { queue: 'team-a' } },
        /task "tasks.fail" matches deniedTaskNames/,
      ],
      ['queue', { ...every, options: { queue: 'team-b' } }, /queue "team-b" is not in allowedQueues/],
      ['default-queue', { ...every }, /queue "celery" is not in allowedQueues/],
      [
        'priority',
        { ...every, options: { queue: 'team-a', priority: 9 } },
        /priority 9 is above maxPriority 3/,
      ],
      [
        'header',
        { ...every, options: { queue: 'team-a', headers: { tenant: 'b' } } },
        /headers "tenant" are not in allowedHeaders/,
      ],
      [
        'interval',
        { interval: { every: 30, period: 'seconds' }, options: { queue: 'team-a' } },
        /the interval is shorter than minIntervalSeconds 60/,
      ],
      [
        'replace',
        { ...every, concurrencyPolicy: 'Replace', options: { queue: 'team-a' } },
        /concurrencyPolicy is Replace, and allowReplace is false/,
      ],
    ];
    for (const [what, spec, message] of cases) {
      const error = await refusal(governed, `bad-${what}`, spec);
      assert.ok(error, `${what}: accepted`);
      assert.match(error, new RegExp(`PeriodicTaskPolicy enforce-${run}: ${message.source}`), what);
    }
  });

  test('what complies, what no policy governs and what only a Warn policy forbids are accepted', async () => {
    const complying = {
      ...every,
      task: 'tasks.record',
      options: { queue: 'team-a.low', priority: 3, headers: { trace_id: 'x' } },
    };
    assert.equal(await refusal(governed, 'complies', complying), undefined);
    assert.equal(
      await refusal(free, 'ungoverned', { interval: { every: 1, period: 'seconds' }, task: 'tasks.fail' }),
      undefined,
    );
    // A pattern is literal but for *: "team-a.*" does not let "team-aXlow" through.
    assert.ok(await refusal(governed, 'dot', { ...every, options: { queue: 'team-aXlow' } }));
  });
});
