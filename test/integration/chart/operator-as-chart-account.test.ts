// The chart's RBAC is sufficient for the real operator: after `helm install`, the operator runs with the
// command line and environment of the chart's Deployment (read back from the API server, the URL files of its
// Secret volume written out as the kubelet would mount them, POD_NAME/POD_NAMESPACE as the downward API would
// set them) and a TokenRequest token
// of the chart's ServiceAccount in place of the in-cluster one. It must take the Lease, dispatch a task
// into Redis, write the task's status, and answer its probes. A private control plane, as in install.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { freePort, waitUntil } from '../../support/ports.ts';
import { type ManagedProcess, startProcess, tail } from '../../support/process.ts';
import { type RedisServer, startRedisServer } from '../../support/redis-server.ts';
import { type ControlPlane, startControlPlane } from '../../testbed/control-plane.ts';
import { chartDir, repoRoot } from './chart.ts';

const namespace = 'celerybeat-system';
const appNamespace = 'apps';
const podName = 'beat-celerybeat-operator-7d9f8-abcde';
const node24 = `${repoRoot}/node_modules/.bin/node`;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}

interface PodSpec {
  containers: { args: string[]; env: EnvVar[]; volumeMounts: { name: string; mountPath: string }[] }[];
  volumes: {
    name: string;
    projected?: { sources: { secret?: { name: string; items: { key: string; path: string }[] } }[] };
  }[];
}

let cluster: ControlPlane;
let mountDir: string;
let redis: RedisServer;
let operator: ManagedProcess;
let healthPort: number;

async function getJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await cluster.kubectl([...args, '-o', 'json'])) as T;
}

/**
 * The container's Secret volumes written into `dir` as the kubelet would mount them; returns a function that
 * maps a path in the container to the file written.
 */
async function mountSecretVolumes(pod: PodSpec, dir: string): Promise<(path: string) => string> {
  const mounts: [string, string][] = [];
  for (const mount of pod.containers[0]?.volumeMounts ?? []) {
    const volume = pod.volumes.find((v) => v.name === mount.name);
    if (!volume?.projected) continue;
    for (const source of volume.projected.sources) {
      if (!source.secret) continue;
      const data = await getJson<{ data: Record<string, string> }>([
        'get',
        'secret',
        source.secret.name,
        '-n',
        namespace,
      ]);
      for (const item of source.secret.items) {
        const encoded = data.data[item.key];
        assert.ok(encoded, `Secret ${source.secret.name} has no key ${item.key}`);
        await writeFile(join(dir, item.path), Buffer.from(encoded, 'base64'));
      }
    }
    mounts.push([mount.mountPath, dir]);
  }
  return (path) => {
    const mount = mounts.find(([at]) => path.startsWith(`${at}/`));
    return mount ? join(mount[1], path.slice(mount[0].length + 1)) : path;
  };
}

/** The container's environment as the kubelet would build it. */
async function resolveEnv(env: EnvVar[]): Promise<Record<string, string>> {
  const resolved: Record<string, string> = {};
  for (const { name, value, valueFrom } of env) {
    if (value !== undefined) resolved[name] = value;
    else if (valueFrom?.fieldRef?.fieldPath === 'metadata.name') resolved[name] = podName;
    else if (valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') resolved[name] = namespace;
    else if (valueFrom?.secretKeyRef) {
      const { name: secret, key } = valueFrom.secretKeyRef;
      const data = await getJson<{ data: Record<string, string> }>([
        'get',
        'secret',
        secret,
        '-n',
        namespace,
      ]);
      const encoded = data.data[key];
      assert.ok(encoded, `Secret ${secret} has no key ${key}`);
      resolved[name] = Buffer.from(encoded, 'base64').toString('utf8');
    } else throw new Error(`cannot resolve env ${name}`);
  }
  return resolved;
}

describe('the operator runs with the chart-created ServiceAccount', { timeout: 300_000 }, () => {
  before(async () => {
    [cluster, redis] = await Promise.all([startControlPlane(), startRedisServer()]);
    healthPort = await freePort();
    await cluster.helm([
      'install',
      'beat',
      chartDir,
      '--namespace',
      namespace,
      '--create-namespace',
      '--set',
      `redis.url=${redis.url}/0`,
      '--set',
      `metricsPort=${await freePort()}`,
      '--set',
      `healthPort=${healthPort}`,
    ]);
    await cluster.kubectl(['create', 'namespace', appNamespace]);
    const kubeconfig = await cluster.serviceAccountKubeConfig(namespace, 'beat-celerybeat-operator');

    const deployment = await getJson<{ spec: { template: { spec: PodSpec } } }>([
      'get',
      'deployment',
      'beat-celerybeat-operator',
      '-n',
      namespace,
    ]);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    assert.ok(container, 'the Deployment has no container');
    mountDir = await mkdtemp(join(tmpdir(), 'chart-pod-mounts-'));
    const inContainer = await mountSecretVolumes(pod, mountDir);
    const env = Object.fromEntries(
      Object.entries(await resolveEnv(container.env)).map(([name, value]) => [
        name,
        name.endsWith('_FILE') ? inContainer(value) : value,
      ]),
    );
    assert.ok(env.REDIS_URL_FILE?.startsWith(mountDir), 'the Redis URL is read from the Secret volume');
    operator = startProcess(
      'operator',
      node24,
      [`${repoRoot}/src/cli/main.ts`, ...container.args, `--kubeconfig=${kubeconfig}`],
      { env: { PATH: process.env.PATH, ...env } },
    );
  });

  after(async () => {
    await operator?.stop();
    await Promise.all([cluster?.stop(), redis?.stop()]);
    if (mountDir) await rm(mountDir, { recursive: true, force: true });
  });

  test('it leads, dispatches a task and writes its status', async () => {
    await cluster.kubectl(['apply', '-f', '-'], {
      input: `apiVersion: celerybeat.io/v1alpha1
kind: PeriodicTask
metadata: {name: add-every-second, namespace: ${appNamespace}}
spec: {task: tasks.add, interval: {every: 1, period: seconds}, args: [16, 16]}
`,
    });
    const why = () => `operator output:\n${tail(operator.output())}`;

    await waitUntil(
      'the Lease in the release namespace to be held',
      async () => {
        if (operator.hasExited()) throw new Error(`the operator exited. ${why()}`);
        try {
          const lease = await getJson<{ spec: { holderIdentity?: string } }>([
            'get',
            'lease',
            'celerybeat-operator',
            '-n',
            namespace,
          ]);
          // The identity is <hostname>_<uuid>; in a pod the hostname is the pod name.
          return Boolean(lease.spec.holderIdentity);
        } catch {
          return false;
        }
      },
      60_000,
      250,
    ).catch((error: Error) => assert.fail(`${error.message}. ${why()}`));

    const client = new Redis(`${redis.url}/0`);
    try {
      await waitUntil(
        'a message on the celery queue',
        async () => (await client.llen('celery')) > 0,
        60_000,
        250,
      ).catch((error: Error) => assert.fail(`${error.message}. ${why()}`));
    } finally {
      client.disconnect();
    }

    await waitUntil(
      'status with a run and Ready=True',
      async () => {
        const task = await getJson<{
          status?: { totalRunCount?: number; conditions?: { type: string; status: string }[] };
        }>(['get', 'periodictask', 'add-every-second', '-n', appNamespace]);
        const ready = task.status?.conditions?.find((c) => c.type === 'Ready');
        return (task.status?.totalRunCount ?? 0) > 0 && ready?.status === 'True';
      },
      60_000,
      250,
    ).catch((error: Error) => assert.fail(`${error.message}. ${why()}`));
    assert.doesNotMatch(operator.output(), /forbidden/i, 'the operator was refused a request');
  });

  test('its probes answer on the chart health port', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const response = await fetch(`http://127.0.0.1:${healthPort}${path}`);
      assert.equal(response.status, 200, `${path}: ${await response.text()}`);
    }
  });

  test('SIGTERM stops it cleanly', async () => {
    await operator.stop(15_000);
    assert.equal(await operator.exited, 0, tail(operator.output()));
  });
});
