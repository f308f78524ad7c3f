// `kubectl celerybeat` as a user runs it: kubectl finds the plugin on the PATH and runs it with a kubeconfig of
// a ServiceAccount that may only get and patch PeriodicTasks in one namespace, against a real API server with
// the operator running. run-now is handled (status.lastRunNow), pause and resume change spec.pause, backfill
// is taken up (status.backfill), next agrees with the operator's status, history shows the status, and a
// missing task, a forbidden namespace or a bad flag give one line and a non-zero exit.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { BACKFILL_ANNOTATION, RUN_NOW_ANNOTATION } from '../../src/api/annotations.ts';
import type { PeriodicTask } from '../../src/api/types.ts';
import {
  type OperatorNamespace,
  operatorNamespace,
  periodicTask,
  startClusterOperator,
} from '../support/operator-cluster.ts';
import type { OperatorProcess } from '../support/operator-process.ts';
import { waitUntil } from '../support/ports.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { type ClusterHandle, sharedCluster } from '../testbed/cluster.ts';
import type { CommandError } from '../testbed/command.ts';

const PLUGIN = fileURLToPath(new URL('../../src/plugin/main.ts', import.meta.url));
const USER = 'periodictask-editor';

let cluster: ClusterHandle;
let ns: OperatorNamespace;
let server: RedisServer;
let operator: OperatorProcess;
let binDir: string;
let userKubeconfig: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `kubectl celerybeat ARGS` as the restricted user: kubectl finds kubectl-celerybeat on the PATH. */
function plugin(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const kubeconfig = env.KUBECONFIG === undefined ? ['--kubeconfig', userKubeconfig] : [];
  const { KUBECONFIG: _, ...inherited } = process.env;
  // kubectl only looks for a plugin before the first flag: connection flags go after the command.
  const child = spawn(join(cluster.binDir, 'kubectl'), ['celerybeat', ...args, ...kubeconfig], {
    env: { ...inherited, PATH: `${binDir}:${process.env.PATH}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

const get = async (name: string): Promise<PeriodicTask> =>
  JSON.parse(await cluster.kubectl(['get', 'pt', name, '-n', ns.namespace, '-o', 'json'])) as PeriodicTask;

async function apply(name: string, spec: Record<string, unknown>): Promise<void> {
  await cluster.kubectl(['apply', '-f', '-'], { input: periodicTask(ns.namespace, name, spec) });
}

async function waitFor(
  name: string,
  what: string,
  check: (t: PeriodicTask) => boolean,
): Promise<PeriodicTask> {
  let task: PeriodicTask | undefined;
  try {
    await waitUntil(
      `${name}: ${what}`,
      async () => {
        task = await get(name);
        return check(task);
      },
      30_000,
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; last seen: ${JSON.stringify({ spec: task?.spec, status: task?.status })}`,
    );
  }
  return task!;
}

/** One line on stderr, no stack trace. */
function oneLine(r: Result): string {
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  return r.stderr.trimEnd();
}

describe('kubectl celerybeat on a real API server', { timeout: 300_000 }, () => {
  before(async () => {
    cluster = await sharedCluster();
    ns = await operatorNamespace(cluster, 'e2e-plugin');
    const rbac = [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: USER, namespace: ns.namespace } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: USER, namespace: ns.namespace },
        rules: [{ apiGroups: ['celerybeat.io'], resources: ['periodictasks'], verbs: ['get', 'patch'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: USER, namespace: ns.namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: USER },
        subjects: [{ kind: 'ServiceAccount', name: USER, namespace: ns.namespace }],
      },
    ];
    await cluster.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }),
    });
    userKubeconfig = await cluster.serviceAccountKubeConfig(ns.namespace, USER);
    binDir = await mkdtemp(join(tmpdir(), 'celerybeat-plugin-bin-'));
    // What `npm install -g` puts on the PATH, pointing at the sources.
    const shim = join(binDir, 'kubectl-celerybeat');
    await writeFile(shim, `#!/bin/sh\nexec '${process.execPath}' '${PLUGIN}' "$@"\n`);
    await chmod(shim, 0o755);
    server = await startRedisServer();
    operator = startClusterOperator(ns, server.url);
    await operator.waitForLog('leader', (l) => l.msg === 'became leader', 30_000);
    await apply('hourly', { interval: { every: 1, period: 'hours' } });
    await apply('fast', { interval: { every: 3, period: 'seconds' } });
    await apply('fresh', { interval: { every: 1, period: 'hours' } });
  });
  after(async () => {
    await operator?.stop();
    await server?.stop();
    if (binDir) await rm(binDir, { recursive: true, force: true });
  });

  test('the user may get and patch PeriodicTasks in its namespace, and nothing more', async () => {
    for (const args of [
      ['delete', 'pt', 'hourly'],
      ['get', 'pt'],
    ]) {
      await assert.rejects(
        cluster.kubectl([...args, '-n', ns.namespace, '--kubeconfig', userKubeconfig]),
        (e: CommandError) => /Forbidden/.test(e.stderr),
        args.join(' '),
      );
    }
    await cluster.kubectl(['get', 'pt', 'hourly', '-n', ns.namespace, '--kubeconfig', userKubeconfig]);
  });

  test('run-now sets the annotation to a fresh token and --wait sees the operator record it', async () => {
    const r = await plugin(['run-now', 'hourly', '-n', ns.namespace, '--wait', '--timeout', '60s']);
    assert.equal(r.code, 0, r.stderr);
    const [requested, handled] = r.stdout.trimEnd().split('\n');
    const token = /^periodictask\.celerybeat\.io\/hourly run-now requested: (\S+)$/.exec(
      requested ?? '',
    )?.[1];
    assert.ok(token && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(token), r.stdout);
    assert.match(
      handled ?? '',
      new RegExp(`^periodictask\\.celerybeat\\.io/hourly run-now ${token} handled`),
    );
    const task = await get('hourly');
    assert.equal(task.metadata.annotations?.[RUN_NOW_ANNOTATION], token);
    assert.equal(task.status?.lastRunNow, token);
    await operator.waitForLog('run-now handled', (l) => l.msg === 'run-now handled' && l.token === token);
  });

  test('pause and resume change spec.pause', async () => {
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const paused = await plugin([
      'pause',
      'hourly',
      '-n',
      ns.namespace,
      '--reason',
      'db migration',
      '--until',
      until,
    ]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(paused.stdout, `periodictask.celerybeat.io/hourly paused until ${until}: db migration\n`);
    assert.deepEqual((await get('hourly')).spec.pause, { reason: 'db migration', until });
    // Paused again without --until: the earlier until does not survive.
    assert.equal((await plugin(['pause', 'hourly', '-n', ns.namespace, '--reason', 'longer'])).code, 0);
    assert.deepEqual((await get('hourly')).spec.pause, { reason: 'longer' });
    const readyReason = async () =>
      (await get('hourly')).status?.conditions?.find((c) => c.type === 'Ready')?.reason;
    await waitUntil('the operator reports Paused', async () => (await readyReason()) === 'Paused', 20_000);
    const history = await plugin(['history', 'hourly', '-n', ns.namespace]);
    assert.match(history.stdout, /^Paused: +longer until resumed$/m);
    const next = await plugin(['next', 'hourly', '-n', ns.namespace]);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.stdout, '');
    assert.equal(next.stderr, `${ns.namespace}/hourly: paused until resumed (longer): no runs\n`);

    const resumed = await plugin(['resume', 'hourly', '-n', ns.namespace]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.stdout, 'periodictask.celerybeat.io/hourly resumed\n');
    assert.equal((await get('hourly')).spec.pause, undefined);
    await waitUntil(
      'the operator reports Scheduled again',
      async () => (await readyReason()) === 'Scheduled',
      20_000,
    );
  });

  test('backfill sets the range annotation and the operator takes it up', async () => {
    const to = new Date().toISOString();
    const from = new Date(Date.parse(to) - 60_000).toISOString();
    const r = await plugin(['backfill', 'fast', '-n', ns.namespace, '--from', from, '--to', to]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^periodictask\\.celerybeat\\.io/fast backfill requested: ${from}/${to}`),
    );
    assert.equal((await get('fast')).metadata.annotations?.[BACKFILL_ANNOTATION], `${from}/${to}`);
    const task = await waitFor(
      'fast',
      'status.backfill finished',
      (t) => t.status?.backfill?.state === 'Done',
    );
    assert.equal(task.status?.backfill?.range, `${from}/${to}`);
    const history = await plugin(['history', 'fast', '-n', ns.namespace]);
    assert.match(
      history.stdout,
      new RegExp(`^Backfill: +${from}/${to}: Done, \\d+ of \\d+ slot\\(s\\) sent`, 'm'),
    );
  });

  test('next continues the grid the operator runs, and agrees with its nextRunAt', async () => {
    // A task that has run: its next times lie on the grid of lastRunAt, after now.
    const fast = await waitFor('fast', 'a run', (t) => (t.status?.totalRunCount ?? 0) >= 1);
    const started = Date.now();
    const r = await plugin(['next', 'fast', '-n', ns.namespace, '--count', '3']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    const times = lines.map((line) => {
      const [key, time] = line.split(' ');
      assert.equal(key, `${ns.namespace}/fast`);
      return Date.parse(time!);
    });
    const grid = Date.parse(fast.status!.lastRunAt!);
    for (const t of times) assert.equal((t - grid) % 3000, 0, `${new Date(t).toISOString()} is on the grid`);
    assert.deepEqual([times[1]! - times[0]!, times[2]! - times[1]!], [3000, 3000]);
    assert.ok(times[0]! > started - 3000 && times[0]! <= Date.now() + 3000, lines[0]);

    // A task that has not run yet: the first time is the status's nextRunAt.
    const fresh = await waitFor(
      'fresh',
      'nextRunAt of this generation',
      (t) => t.status?.nextRunAt !== undefined && t.status.observedGeneration === t.metadata.generation,
    );
    const first = (await plugin(['next', 'fresh', '-n', ns.namespace, '--count', '1'])).stdout;
    assert.equal(first, `${ns.namespace}/fresh ${fresh.status!.nextRunAt}\n`);
  });

  test('history shows what the status says', async () => {
    const task = await waitFor('fast', 'two runs', (t) => (t.status?.totalRunCount ?? 0) >= 2);
    const r = await plugin(['history', 'fast', '-n', ns.namespace]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], `PeriodicTask ${ns.namespace}/fast (tasks.record)`);
    assert.match(r.stdout, /^Schedule: +every 3 seconds$/m);
    assert.match(r.stdout, /^Ready: +True\/Scheduled/m);
    const runs = Number(/^Runs: +(\d+)$/m.exec(r.stdout)?.[1]);
    assert.ok(runs >= (task.status?.totalRunCount ?? 0), r.stdout);
    assert.match(r.stdout, /^Last run: +\d{4}-\d\d-\d\dT[\d:.]+Z \(\d+s ago\), task id [0-9a-f-]{36}$/m);
    assert.match(r.stdout, /^Next run: +\d{4}-\d\d-\d\dT[\d:.]+Z/m);
  });

  test('timeline draws the runs of the namespace per minute from the live tasks; without list it is Forbidden', async () => {
    const r = await plugin(['timeline', '-n', ns.namespace, '--hours', '1', '--by', 'task'], {
      KUBECONFIG: cluster.kubeconfigPath,
    });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(
      lines[0]!,
      new RegExp(
        `^Runs per minute, .* UTC: [\\d,]+ runs of 3 tasks in namespace ${ns.namespace}, by task; peak `,
      ),
    );
    // `fast` runs every 3 s: 20 a minute in every whole minute of the window.
    const rows = lines.filter((l) => /^\d\d:\d\d/.test(l));
    assert.ok(rows.length > 0, r.stdout);
    assert.ok(
      rows.some((l) => / fast 20( |$)/.test(l)),
      `a minute with the 20 runs of fast:\n${r.stdout}`,
    );
    const denied = await plugin(['timeline', '-n', ns.namespace]);
    assert.equal(denied.code, 1);
    assert.match(oneLine(denied), /^kubectl celerybeat timeline: .*forbidden.*list.*\(HTTP 403\)$/i);
  });

  test('the namespace and context come from the kubeconfig, as for kubectl; KUBECONFIG works too', async () => {
    // A copy of the user's kubeconfig whose current context names the namespace, plus a second context.
    const withNamespace = join(binDir, 'user-with-namespace.kubeconfig');
    const text = await readFile(userKubeconfig, 'utf8');
    await writeFile(withNamespace, text, { mode: 0o600 });
    const context = (
      await cluster.kubectl(['config', 'current-context', '--kubeconfig', withNamespace])
    ).trim();
    await cluster.kubectl([
      'config',
      'set-context',
      '--current',
      `--namespace=${ns.namespace}`,
      '--kubeconfig',
      withNamespace,
    ]);
    await cluster.kubectl([
      'config',
      'set-context',
      'elsewhere',
      '--cluster=testbed',
      `--user=${context}`,
      '--namespace=default',
      '--kubeconfig',
      withNamespace,
    ]);

    const fromContext = await plugin(['history', 'hourly'], { KUBECONFIG: withNamespace });
    assert.equal(fromContext.code, 0, fromContext.stderr);
    assert.match(fromContext.stdout, new RegExp(`^PeriodicTask ${ns.namespace}/hourly `));
    // --context picks the other context, whose namespace the user may not read.
    const other = await plugin(['history', 'hourly', '--context', 'elsewhere'], {
      KUBECONFIG: withNamespace,
    });
    assert.equal(other.code, 1);
    assert.match(
      oneLine(other),
      /is forbidden: User "system:serviceaccount:[^"]+" cannot get resource "periodictasks".* in the namespace "default" \(HTTP 403\)$/,
    );
    const unknown = await plugin(['history', 'hourly', '--context', 'nope'], { KUBECONFIG: withNamespace });
    assert.equal(oneLine(unknown), 'kubectl celerybeat history: context "nope" is not in the kubeconfig');
  });

  test('a missing task, a forbidden namespace and a bad flag: one line, a non-zero exit', async () => {
    const missing = await plugin(['run-now', 'no-such-task', '-n', ns.namespace]);
    assert.equal(missing.code, 1);
    assert.equal(
      oneLine(missing),
      `kubectl celerybeat run-now: periodictask "no-such-task" in namespace "${ns.namespace}" not found`,
    );
    const forbidden = await plugin(['pause', 'hourly', '-n', 'default', '--reason', 'x']);
    assert.equal(forbidden.code, 1);
    assert.match(
      oneLine(forbidden),
      /^kubectl celerybeat pause: .* cannot patch resource "periodictasks" .*\(HTTP 403\)$/,
    );
    const bad = await plugin([
      'backfill',
      'hourly',
      '-n',
      ns.namespace,
      '--from',
      'yesterday',
      '--to',
      'today',
    ]);
    assert.equal(bad.code, 2);
    assert.equal(
      oneLine(bad),
      'kubectl celerybeat: --from "yesterday": must be an RFC 3339 time with an offset, such as 2026-12-24T18:00:00Z',
    );
    const help = await plugin(['pause', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: kubectl celerybeat pause NAME --reason TEXT \[--until RFC3339\]/);
  });

  test('impersonation: as:/as-groups: in the kubeconfig and --as/--as-group send Impersonate-* headers', async () => {
    // A user and a group that may only get PeriodicTasks; the admin impersonates them.
    const reader = `pt-reader-${ns.namespace}`;
    const group = `pt-readers-${ns.namespace}`;
    await cluster.kubectl([
      'create',
      'role',
      'pt-reader',
      '-n',
      ns.namespace,
      '--verb=get',
      '--resource=periodictasks.celerybeat.io',
    ]);
    await cluster.kubectl([
      'create',
      'rolebinding',
      'pt-reader',
      '-n',
      ns.namespace,
      '--role=pt-reader',
      `--user=${reader}`,
      `--group=${group}`,
    ]);
    const admin = parse(await readFile(cluster.kubeconfigPath, 'utf8')) as {
      users: Array<{ user: Record<string, unknown> }>;
    };
    admin.users[0]!.user.as = reader;
    const asReader = join(binDir, 'as-reader.kubeconfig');
    await writeFile(asReader, stringify(admin), { mode: 0o600 });

    const history = await plugin(['history', 'hourly', '-n', ns.namespace], { KUBECONFIG: asReader });
    assert.equal(history.code, 0, history.stderr);
    const pause = await plugin(['pause', 'hourly', '-n', ns.namespace, '--reason', 'x'], {
      KUBECONFIG: asReader,
    });
    assert.equal(pause.code, 1);
    assert.match(
      oneLine(pause),
      new RegExp(
        `^kubectl celerybeat pause: .*User "${reader}" cannot patch resource "periodictasks" .*\\(HTTP 403\\)$`,
      ),
    );
    // The same with kubectl's flags on the admin's kubeconfig, and a group that grants get to anyone in it.
    const admin2 = { KUBECONFIG: cluster.kubeconfigPath };
    const flagged = await plugin(
      ['pause', 'hourly', '-n', ns.namespace, '--reason', 'x', '--as', reader],
      admin2,
    );
    assert.equal(flagged.code, 1);
    assert.match(oneLine(flagged), new RegExp(`User "${reader}" cannot patch`));
    const stranger = ['history', 'hourly', '-n', ns.namespace, '--as', 'stranger'];
    const refused = await plugin(stranger, admin2);
    assert.match(oneLine(refused), /User "stranger" cannot get resource "periodictasks"/);
    const viaGroup = await plugin([...stranger, '--as-group', group], admin2);
    assert.equal(viaGroup.code, 0, viaGroup.stderr);
    admin.users[0]!.user.as = 'stranger';
    admin.users[0]!.user['as-groups'] = [group];
    const asGroup = join(binDir, 'as-group.kubeconfig');
    await writeFile(asGroup, stringify(admin), { mode: 0o600 });
    const fromKubeconfig = await plugin(['history', 'hourly', '-n', ns.namespace], { KUBECONFIG: asGroup });
    assert.equal(fromKubeconfig.code, 0, fromKubeconfig.stderr);
    assert.equal((await get('hourly')).spec.pause ?? null, null, 'nothing was paused');
  });
});
