// The chart's pods, for real: the image built from the project's Dockerfile (buildah, on a
// node:24-bookworm-slim made here), `helm install` with the README's commands on the test bed's node
// (containerd + runc, kubelet, kube-proxy, controller manager, scheduler), a Redis and a Celery worker on
// this machine. Checks what a user relies on: both pods Running and Ready, one Lease holder, a PeriodicTask
// that runs on the worker with its status filled in, failover after the leader pod is deleted, a rolling
// upgrade to a rebuilt image, a store URL switched to rediss:// with its CA mounted through extraVolumes,
// eviction held back by the PodDisruptionBudget, nothing written outside the
// container's mounts, and a `down` that leaves nothing behind. Skipped, with the missing kernel feature
// named, where the node cannot run.
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { Redis } from 'ioredis';
import { type CeleryWorker, type Execution, startCeleryWorker } from '../../support/celery-worker.ts';
import { freePort, waitUntil } from '../../support/ports.ts';
import { type ManagedProcess, startProcess, tail } from '../../support/process.ts';
import { makeTlsFiles, type TlsFiles } from '../../support/tls-certs.ts';
import { ensureBinaries } from '../../testbed/binaries.ts';
import { CommandError } from '../../testbed/command.ts';
import { type ControlPlane, startControlPlane } from '../../testbed/control-plane.ts';
import { buildOperatorImage, ctr, imageSize, loadImage } from '../../testbed/node/images.ts';
import { NODE_NAME, type NodeState, nodeDir, nodeLeftovers } from '../../testbed/node/node.ts';
import { nodeSupport } from '../../testbed/node/support.ts';
import { readmeCommands, repoRoot } from './readme-commands.ts';

const namespace = 'celerybeat-system';
const release = 'celerybeat-operator';
const chartVersion = /^appVersion:\s*"?([^"\n]+)"?/m.exec(
  readFileSync(join(repoRoot, 'charts', 'celerybeat-operator', 'Chart.yaml'), 'utf8'),
)?.[1];
const everySeconds = 5;
const leaseDurationSeconds = 15;

const binDir = await ensureBinaries();
const support = nodeSupport(binDir);
if (!support.ok && support.kind === 'setup')
  throw new Error(`the node test cannot run: ${support.missing} is missing`);
const skip = support.ok
  ? false
  : `the test bed's node cannot start here: the kernel lacks ${support.missing}`;
if (skip) process.stdout.write(`# SKIP chart on a node: ${skip}\n`);

interface PodView {
  name: string;
  phase: string;
  ready: boolean;
  image: string;
  containerId: string;
  deleting: boolean;
}

let cp: ControlPlane | undefined;
let stopped = false;
let node: NodeState;
let redis: ManagedProcess;
let redisUrl: string;
/** The same Redis on its TLS port, as a pod reaches it, with the CA file where extraVolumeMounts puts it. */
let redisTlsUrl: string;
let redisTlsPort: number;
let tls: TlsFiles;
let worker: CeleryWorker;
let repository: string;
const figures: Record<string, string> = {};

function cluster(): ControlPlane {
  if (!cp) throw new Error('no control plane');
  return cp;
}
const kubectl = (args: readonly string[], input?: string): Promise<string> =>
  cluster().kubectl(args, { input });

async function pods(): Promise<PodView[]> {
  const list = JSON.parse(
    await kubectl([
      'get',
      'pods',
      '-n',
      namespace,
      '-l',
      'app.kubernetes.io/name=celerybeat-operator',
      '-o',
      'json',
    ]),
  ) as {
    items: {
      metadata: { name: string; deletionTimestamp?: string };
      spec: { containers: { image: string }[] };
      status: {
        phase: string;
        conditions?: { type: string; status: string }[];
        containerStatuses?: { containerID?: string }[];
      };
    }[];
  };
  return list.items.map((p) => ({
    name: p.metadata.name,
    phase: p.status.phase,
    ready: p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    image: p.spec.containers[0]?.image ?? '',
    containerId: (p.status.containerStatuses?.[0]?.containerID ?? '').replace(/^containerd:\/\//, ''),
    deleting: p.metadata.deletionTimestamp !== undefined,
  }));
}

async function leaseHolder(): Promise<string> {
  const holder = await kubectl([
    'get',
    'lease',
    'celerybeat-operator',
    '-n',
    namespace,
    '-o',
    'jsonpath={.spec.holderIdentity}',
  ]).catch(() => '');
  return holder.replace(/_[0-9a-f-]+$/, '');
}

async function taskStatus(): Promise<{
  totalRunCount?: number;
  lastRunAt?: string;
  missedRunCount?: number;
}> {
  const out = await kubectl([
    'get',
    'pt',
    'add-every-5-seconds',
    '-n',
    'default',
    '-o',
    'jsonpath={.status}',
  ]);
  return out
    ? (JSON.parse(out) as { totalRunCount?: number; lastRunAt?: string; missedRunCount?: number })
    : {};
}

const slotOf = (e: Execution): number => Date.parse(String(e.request.periodic_task_scheduled_at));

/** Slots run so far, each once; fails on a slot (or task id) seen twice. */
async function slots(): Promise<Execution[]> {
  const runs = (await worker.executions()).filter((e) => e.task === 'tasks.add');
  const seen = new Map<number, string>();
  for (const e of runs) {
    const slot = slotOf(e);
    assert.ok(
      !seen.has(slot),
      `slot ${new Date(slot).toISOString()} ran twice (${seen.get(slot)} and ${e.id})`,
    );
    seen.set(slot, e.id);
  }
  assert.equal(new Set(runs.map((e) => e.id)).size, runs.length, 'a task id ran twice');
  return runs.sort((a, b) => slotOf(a) - slotOf(b));
}

/** Slots of the grid between the first and the last run that never ran. */
function missedSlots(runs: Execution[], from = 0): number[] {
  const times = runs.map(slotOf).filter((t) => t >= from);
  const missed: number[] = [];
  for (let i = 1; i < times.length; i++) {
    for (let t = (times[i - 1] ?? 0) + everySeconds * 1000; t < (times[i] ?? 0); t += everySeconds * 1000)
      missed.push(t);
  }
  return missed;
}

async function waitForPods(
  what: string,
  check: (p: PodView[]) => boolean,
  timeoutMs = 180_000,
): Promise<PodView[]> {
  let last: PodView[] = [];
  try {
    await waitUntil(
      what,
      async () => {
        last = await pods();
        return check(last);
      },
      timeoutMs,
      250,
    );
  } catch (err) {
    throw new Error(
      `${(err as Error).message}\npods: ${JSON.stringify(last)}\n${await kubectl(['get', 'events', '-n', namespace]).catch(() => '')}`,
    );
  }
  return last;
}

const allReady = (want: number) => (p: PodView[]) =>
  p.filter((x) => !x.deleting).length === want &&
  p.every((x) => !x.deleting && x.phase === 'Running' && x.ready);

/** `path` inside the container with the symlinks of its root filesystem (mounted at `root`) followed. */
function resolveInRoot(root: string, path: string, depth = 0): string {
  const parts = path.split('/').filter(Boolean);
  let resolved = '';
  for (let i = 0; i < parts.length; i++) {
    const next = `${resolved}/${parts[i]}`;
    let target: string;
    try {
      if (!lstatSync(join(root, next)).isSymbolicLink() || depth > 8) {
        resolved = next;
        continue;
      }
      target = readlinkSync(join(root, next));
    } catch {
      resolved = next;
      continue;
    }
    const rest = parts.slice(i + 1).join('/');
    const base = target.startsWith('/') ? target : posix.join(resolved || '/', target);
    return resolveInRoot(root, posix.join(base, rest), depth + 1);
  }
  return resolved || '/';
}

let broken: string | undefined;

/** One step of the walk-through: after a failed step the later ones fail at once instead of waiting out
 * their timeouts on a cluster in the wrong state. */
function step(name: string, fn: (t: TestContext) => Promise<void>, timeout = 300_000): void {
  test(name, { timeout }, async (t) => {
    if (broken) assert.fail(`not run: the step "${broken}" failed`);
    try {
      await fn(t);
    } catch (err) {
      broken = name;
      throw err;
    }
  });
}

function record(t: TestContext, name: string, value: string): void {
  figures[name] = value;
  t.diagnostic(`${name}: ${value}`);
}

async function startRedis(host: string): Promise<void> {
  const port = await freePort();
  redisTlsPort = await freePort();
  tls = makeTlsFiles(mkdtempSync(join(tmpdir(), 'chart-on-node-tls-')), [host]);
  // What a user's Redis looks like: a password, reachable from the pods (the node's host address), and a
  // TLS port with a certificate of a private CA.
  redis = startProcess('redis-server', 'redis-server', [
    '--port',
    String(port),
    '--tls-port',
    String(redisTlsPort),
    '--tls-cert-file',
    tls.serverCert,
    '--tls-key-file',
    tls.serverKey,
    '--tls-ca-cert-file',
    tls.caCert,
    '--tls-auth-clients',
    'no',
    '--bind',
    `127.0.0.1 ${host}`,
    '--requirepass',
    'password',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  redisUrl = `redis://:password@${host}:${port}/0`;
  redisTlsUrl = `rediss://:password@${host}:${redisTlsPort}/0?ssl_ca_certs=/tls/ca.crt`;
  await waitUntil(
    'redis-server',
    () => {
      if (redis.hasExited()) throw new Error(`redis-server exited:\n${tail(redis.output())}`);
      return redis.output().includes('Ready to accept connections');
    },
    20_000,
  );
}

describe('the chart on a real node', { skip, timeout: 1_500_000 }, () => {
  before(async () => {
    assert.ok(chartVersion, 'Chart.yaml has an appVersion');
    cp = await startControlPlane({ binDir, withNode: true });
    assert.ok(cp.node);
    node = cp.node;
    await startRedis(node.network.hostAddress);
    worker = await startCeleryWorker({
      brokerUrl: redisUrl.replace(node.network.hostAddress, '127.0.0.1'),
      queues: ['celery'],
    });
  });

  after(async () => {
    await worker?.stop();
    await redis?.stop();
    if (tls) rmSync(tls.dir, { recursive: true, force: true });
    if (!stopped) await cp?.stop();
  });

  step(
    'the image builds from the unchanged Dockerfile and loads into the node',
    async (t) => {
      const started = Date.now();
      const image = await buildOperatorImage(chartVersion ?? 'dev');
      record(
        t,
        'image build',
        `${((Date.now() - started) / 1000).toFixed(0)} s (base image cached or made first)`,
      );
      record(t, 'image size', `${await imageSize(image)} uncompressed`);
      // The name the README's --set image.repository gives, tagged with the chart's appVersion.
      const install = readmeCommands('Install on Kubernetes with Helm').find((c) => c[0] === 'helm') ?? [];
      repository = install.find((w) => w.startsWith('image.repository='))?.split('=')[1] ?? '';
      assert.ok(repository, 'the README sets image.repository');
      const archive = await loadImage(nodeDir(cluster().dir), image, `${repository}:${chartVersion}`);
      record(t, 'image archive', `${(archive / 1e6).toFixed(0)} MB (docker archive loaded into containerd)`);
      assert.match(
        await ctr(nodeDir(cluster().dir), ['images', 'ls', '-q']),
        new RegExp(`${repository}:${chartVersion}`),
      );
    },
    900_000,
  );

  step(
    "helm install with the README's commands: both pods Running and Ready, one Lease holder",
    async (t) => {
      for (const command of readmeCommands('Install on Kubernetes with Helm')) {
        // The only edits: the user's own connection URLs, and the chart path from the repository root.
        const args = command
          .slice(1)
          .map((w) =>
            w
              .replace(/^(--from-literal=(redis|broker)-url=).*/, `$1${redisUrl}`)
              .replace(/^\.\/charts\//, `${repoRoot}/charts/`),
          );
        if (command[0] === 'kubectl') await kubectl(args);
        else if (command[0] === 'helm') await cluster().helm(args);
        else throw new Error(`unexpected command in the README: ${command.join(' ')}`);
      }
      const running = await waitForPods('two Ready operator pods', allReady(2));
      record(
        t,
        'kubectl get pods -o wide',
        `\n${await kubectl(['get', 'pods', '-n', namespace, '-o', 'wide'])}`,
      );
      let holder = '';
      await waitUntil(
        'a Lease holder',
        async () => {
          holder = await leaseHolder();
          return holder !== '';
        },
        60_000,
        250,
      );
      assert.ok(
        running.some((p) => p.name === holder),
        `the Lease holder ${holder} is one of the pods`,
      );
      record(t, 'lease holder after install', holder);
    },
  );

  step('a PeriodicTask applied with kubectl runs on the Celery worker and its status fills in', async () => {
    await kubectl(
      ['apply', '-f', '-'],
      `apiVersion: celerybeat.io/v1alpha1
kind: PeriodicTask
metadata: {name: add-every-5-seconds, namespace: default}
spec:
  task: tasks.add
  interval: {every: ${everySeconds}, period: seconds}
  args: [16, 16]
  options: {queue: celery}
`,
    );
    const runs = await worker.waitForExecutions(2, 60_000);
    assert.deepEqual(runs[0]?.args, [16, 16]);
    assert.equal(runs[0]?.result, 32);
    assert.equal(runs[0]?.request.periodic_task_name, 'default/add-every-5-seconds');
    await waitUntil(
      'status.totalRunCount ≥ 2',
      async () => ((await taskStatus()).totalRunCount ?? 0) >= 2,
      60_000,
      500,
    );
    const status = await taskStatus();
    assert.ok(status.lastRunAt, 'status.lastRunAt is set');
    await slots();
  });

  step('the leader pod deleted: the other dispatches within the lease duration, no slot twice', async (t) => {
    const before = await leaseHolder();
    const deletedAt = Date.now();
    await kubectl(['delete', 'pod', before, '-n', namespace, '--wait=false']);
    let after = '';
    await waitUntil(
      'a new Lease holder',
      async () => {
        after = await leaseHolder();
        return after !== '' && after !== before;
      },
      leaseDurationSeconds * 1000,
      100,
    );
    const takeover = Date.now() - deletedAt;
    await worker.waitForExecutions((e) => e.some((x) => (x.receivedAt ?? 0) > deletedAt + takeover), 30_000);
    const runs = await slots();
    const firstAfter = runs.find((e) => (e.receivedAt ?? 0) > deletedAt + takeover);
    const dispatch = (firstAfter?.receivedAt ?? 0) - deletedAt;
    record(t, 'lease holder before the kill', before);
    record(t, 'lease holder after the kill', after);
    record(t, 'failover (delete → new Lease holder)', `${(takeover / 1000).toFixed(1)} s`);
    record(t, 'failover (delete → first task the new leader sent)', `${(dispatch / 1000).toFixed(1)} s`);
    assert.ok(dispatch < leaseDurationSeconds * 1000, `first dispatch ${dispatch} ms after the delete`);
    assert.deepEqual(missedSlots(runs), [], 'no slot missed');
    await waitForPods('the replacement pod Ready', allReady(2));
  });

  step('helm upgrade to a rebuilt image tag: a rolling update, no slot twice, none missed', async (t) => {
    const tag = `${chartVersion}-rebuilt`;
    const image = await buildOperatorImage('rebuilt', `org.opencontainers.image.revision=${Date.now()}`);
    await loadImage(nodeDir(cluster().dir), image, `${repository}:${tag}`);
    const old = (await pods()).map((p) => p.name);
    const started = Date.now();
    const holders = new Set<string>([await leaseHolder()]);
    const watch = setInterval(() => void leaseHolder().then((h) => h && holders.add(h)), 200);
    try {
      await cluster().helm([
        'upgrade',
        release,
        join(repoRoot, 'charts', 'celerybeat-operator'),
        '-n',
        namespace,
        '--reuse-values',
        '--set',
        `image.tag=${tag}`,
      ]);
      await kubectl([
        'rollout',
        'status',
        'deployment/celerybeat-operator',
        '-n',
        namespace,
        '--timeout=300s',
      ]);
      await waitForPods(
        'old pods gone',
        (p) => allReady(2)(p) && p.every((x) => !old.includes(x.name) && x.image.endsWith(`:${tag}`)),
      );
    } finally {
      clearInterval(watch);
    }
    const rollout = Date.now() - started;
    // A slot after the rollout shows the dispatching carried on.
    await worker.waitForExecutions((e) => e.some((x) => slotOf(x) > started + rollout), 30_000);
    const runs = await slots();
    const during = runs.filter((e) => slotOf(e) >= started);
    const lateness = during.map((e) => (e.receivedAt ?? 0) - slotOf(e));
    record(
      t,
      'rolling upgrade duration (helm upgrade → rollout complete)',
      `${(rollout / 1000).toFixed(1)} s`,
    );
    record(t, 'rolling upgrade Lease holders', [...holders].join(' → '));
    record(
      t,
      'rolling upgrade slots',
      `${during.length} ran, max lateness ${(Math.max(...lateness) / 1000).toFixed(1)} s, ${missedSlots(runs, started).length} missed`,
    );
    record(
      t,
      'kubectl get pods -o wide after the upgrade',
      `\n${await kubectl(['get', 'pods', '-n', namespace, '-o', 'wide'])}`,
    );
    assert.deepEqual(missedSlots(runs), [], 'no slot missed');
    assert.ok(
      Math.max(...lateness) < everySeconds * 1000,
      'a late slot is only the one catch-up, sent before the next slot',
    );
    assert.equal((await taskStatus()).missedRunCount ?? 0, 0);
  });

  step(
    'helm upgrade to a rediss:// store whose CA extraVolumes mounts: Ready, on TLS, no slot twice',
    async (t) => {
      await kubectl([
        'create',
        'secret',
        'generic',
        'redis-ca',
        '-n',
        namespace,
        `--from-file=ca.crt=${tls.caCert}`,
      ]);
      await kubectl([
        'create',
        'secret',
        'generic',
        'celery-connection-tls',
        '-n',
        namespace,
        `--from-literal=redis-url=${redisTlsUrl}`,
      ]);
      const old = (await pods()).map((p) => p.name);
      const started = Date.now();
      await cluster().helm(
        [
          'upgrade',
          release,
          join(repoRoot, 'charts', 'celerybeat-operator'),
          '-n',
          namespace,
          '--reuse-values',
          '-f',
          '-',
        ],
        {
          input: `redis: {existingSecret: celery-connection-tls}
extraVolumes:
  - name: redis-tls
    secret: {secretName: redis-ca}
extraVolumeMounts:
  - name: redis-tls
    mountPath: /tls
    readOnly: true
`,
        },
      );
      await kubectl([
        'rollout',
        'status',
        'deployment/celerybeat-operator',
        '-n',
        namespace,
        '--timeout=300s',
      ]);
      const running = await waitForPods(
        'the pods on the TLS store Ready',
        (p) => allReady(2)(p) && p.every((x) => !old.includes(x.name)),
      );
      record(t, 'rollout to the rediss:// store', `${((Date.now() - started) / 1000).toFixed(1)} s`);
      // Each pod's store connection goes to the TLS port, verified with the mounted CA.
      const logs = await Promise.all(running.map((p) => kubectl(['logs', p.name, '-n', namespace])));
      for (const log of logs)
        assert.match(
          log,
          new RegExp(`"redis":"rediss://:\\*+@[^"]*:${redisTlsPort}/0`),
          'started on the TLS URL',
        );
      const client = new Redis(redisUrl.replace(node.network.hostAddress, '127.0.0.1'));
      const clients = String(await client.client('LIST').finally(() => client.disconnect()));
      assert.match(clients, new RegExp(`laddr=[^ ]*:${redisTlsPort} `), 'a client on the TLS port');
      // A slot after the rollout ran: the leader dispatches with its store on TLS.
      const rolledOut = Date.now();
      await worker.waitForExecutions((e) => e.some((x) => slotOf(x) > rolledOut), 60_000);
      const runs = await slots();
      assert.deepEqual(missedSlots(runs, started), [], 'no slot missed');
    },
  );

  step('draining the node evicts one pod and the PodDisruptionBudget keeps the other', async (t) => {
    let refused = '';
    try {
      await kubectl([
        'drain',
        NODE_NAME,
        '--ignore-daemonsets',
        '--delete-emptydir-data',
        '--pod-selector=app.kubernetes.io/name=celerybeat-operator',
        '--timeout=25s',
      ]);
    } catch (err) {
      refused = err instanceof CommandError ? `${err.stdout}\n${err.stderr}` : String(err);
    }
    assert.match(refused, /disruption budget/i, `drain was not held back by the budget:\n${refused}`);
    const left = await pods();
    assert.equal(
      left.filter((p) => p.phase === 'Running' && p.ready && !p.deleting).length,
      1,
      JSON.stringify(left),
    );
    record(
      t,
      'drain',
      refused
        .split('\n')
        .find((l) => /disruption budget/i.test(l))
        ?.trim() ?? '',
    );
    const since = Date.now();
    await worker.waitForExecutions((e) => e.some((x) => slotOf(x) > since), 30_000);
    await kubectl(['uncordon', NODE_NAME]);
    await waitForPods('two Ready pods after uncordon', allReady(2));
    const runs = await slots();
    assert.deepEqual(missedSlots(runs), [], 'no slot missed while draining');
  });

  step('the containers write nothing outside their mounts', async () => {
    for (const pod of await pods()) {
      const spec = JSON.parse(await ctr(nodeDir(cluster().dir), ['containers', 'info', pod.containerId])) as {
        Spec: {
          root: { readonly?: boolean };
          mounts: { destination: string }[];
          process: { user: { uid: number } };
        };
      };
      assert.equal(spec.Spec.root.readonly, true, 'read-only root filesystem');
      assert.equal(spec.Spec.process.user.uid, 1000);
      const rootfs = `${nodeDir(cluster().dir)}/containerd/state/io.containerd.runtime.v2.task/k8s.io/${pod.containerId}/rootfs`;
      const line = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .find((l) => l.split(' ')[4] === rootfs);
      const upper = /upperdir=([^,\s]+)/.exec(line ?? '')?.[1];
      assert.ok(upper, `no overlay mount at ${rootfs}`);
      // The only entries in the writable layer may be the mount points the runtime made: empty and on the
      // way to a mount's destination.
      // As the runtime creates them: through the image's symlinks (Debian's /var/run is /run).
      const targets = spec.Spec.mounts.map((m) => resolveInRoot(rootfs, m.destination));
      const walk = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
          const full = join(dir, e.name);
          return e.isDirectory() ? [full, ...walk(full)] : [full];
        });
      for (const path of walk(upper)) {
        const inContainer = `/${relative(upper, path)}`;
        const st = statSync(path);
        const onTheWay = targets.some((m) => m === inContainer || m.startsWith(`${inContainer}/`));
        assert.ok(onTheWay && (st.isDirectory() || st.size === 0), `${pod.name} wrote ${inContainer}`);
      }
      const exec = (cmd: string) => kubectl(['exec', '-n', namespace, pod.name, '--', 'sh', '-c', cmd]);
      assert.equal((await exec('id -u')).trim(), '1000');
      assert.match(await exec('grep CapEff /proc/self/status'), /CapEff:\s+0000000000000000/);
      assert.match(await exec('touch /app/x 2>&1 || true'), /Read-only file system/);
      assert.equal((await exec('touch /tmp/probe && echo ok')).trim(), 'ok');
    }
  });

  test('helm uninstall, then down leaves no process, mount, namespace, cgroup or rule behind', async (t) => {
    // After a failed step the release may be missing or half-installed: down must clean up all the same.
    if (!broken) {
      await cluster().helm(['uninstall', release, '-n', namespace, '--wait', '--timeout', '120s']);
      await waitForPods('no operator pods', (p) => p.length === 0, 120_000);
    }
    const dir = cluster().dir;
    stopped = true;
    await cluster().stop();
    const left = nodeLeftovers(dir, node);
    assert.deepEqual(left, []);
    record(
      t,
      'after down',
      'no process, mount, netns, link, cgroup, CNI cache entry or iptables rule left; kernel settings restored',
    );
    t.diagnostic(JSON.stringify(figures, null, 2));
  });
});
