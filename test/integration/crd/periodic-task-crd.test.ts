// The generated CRD on a real API server: every example is accepted, `kubectl get pt` shows the columns,
// each invalid manifest of the shared table is rejected at apply time naming the field (the same field the
// operator's validator names), and what only the operator can check passes the API server.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { validatePeriodicTask } from '../../../src/validation/validate.ts';
import { type ClusterHandle, sharedCluster } from '../../testbed/cluster.ts';
import { CommandError } from '../../testbed/command.ts';
import { INVALID_CASES, type InvalidCase, invalidManifest } from '../../unit/api/invalid-manifests.ts';

const CRD_FILE = new URL('../../../crds/celerybeat.io_periodictasks.yaml', import.meta.url);
const EXAMPLES = new URL('../../../examples/', import.meta.url);

let cluster: ClusterHandle;
const namespace = `crd-${randomBytes(4).toString('hex')}`;

before(async () => {
  cluster = await sharedCluster();
  await cluster.kubectl(['apply', '-f', '-'], { input: await readFile(CRD_FILE, 'utf8') });
  await cluster.crdEstablished('periodictasks.celerybeat.io');
  await cluster.kubectl(['create', 'namespace', namespace]);
});

after(async () => {
  await cluster?.kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

/** Applies one manifest; resolves null when accepted, else the API server's error text. */
async function applyError(manifest: Record<string, unknown>): Promise<string | null> {
  try {
    await cluster.kubectl(['apply', '-n', namespace, '-f', '-'], { input: JSON.stringify(manifest) });
    return null;
  } catch (err) {
    if (err instanceof CommandError) return err.stderr;
    throw err;
  }
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

test('every example is accepted and kubectl get pt shows the printer columns', async () => {
  const files = (await readdir(EXAMPLES)).filter((f) => f.endsWith('.yaml')).sort();
  assert.ok(files.length >= 14, `expected one example per feature, found ${files.length}`);
  await cluster.kubectl(['apply', '-n', namespace, '-f', EXAMPLES.pathname]);
  const table = await cluster.kubectl(['get', 'pt', '-n', namespace]);
  const [header, ...rows] = table.trim().split('\n');
  assert.match(
    header!,
    /^NAME\s+TASK\s+SCHEDULE\s+ENABLED\s+READY\s+REASON\s+LAST RUN\s+NEXT RUN\s+RUNS\s+LAST RESULT\s+AGE$/,
  );
  assert.equal(rows.length, files.length);
  // SCHEDULE, LAST RUN, NEXT RUN and RUNS stay empty until the operator writes the status.
  assert.match(table, /add-every-10-seconds\s+tasks\.add\s+true\s/);
  assert.match(table, /add-every-minute-disabled\s+tasks\.add\s+false\s/);
  // The category and the defaults come from the CRD.
  const viaCategory = await cluster.kubectl(['get', 'celery', '-n', namespace, '-o', 'name']);
  assert.equal(viaCategory.trim().split('\n').length, files.length);
  const stored = JSON.parse(
    await cluster.kubectl(['get', 'pt', 'add-every-10-seconds', '-n', namespace, '-o', 'json']),
  );
  assert.equal(stored.spec.enabled, true);
  assert.equal(stored.spec.oneOff, false);
});

test('the status subresource takes the fields the operator writes', async () => {
  const name = 'status-probe';
  await cluster.kubectl(['apply', '-n', namespace, '-f', '-'], {
    input: JSON.stringify(
      invalidManifest({
        name,
        spec: { task: 'tasks.add', cron: '*/5 * * * *' },
        field: '',
        apiServer: false,
        metadataName: name,
      }),
    ),
  });
  const status = {
    status: {
      schedule: 'cron */5 * * * * UTC',
      lastRunAt: '2026-11-24T07:00:00Z',
      nextRunAt: '2026-11-24T07:05:00Z',
      totalRunCount: 5,
      missedRunCount: 0,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Scheduled',
          message: '',
          lastTransitionTime: '2026-11-24T07:00:00Z',
        },
      ],
    },
  };
  await cluster.kubectl([
    'patch',
    'pt',
    name,
    '-n',
    namespace,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify(status),
  ]);
  const table = await cluster.kubectl(['get', 'pt', name, '-n', namespace]);
  assert.match(
    table,
    /status-probe\s+tasks\.add\s+cron \*\/5 \* \* \* \* UTC\s+true\s+True\s+Scheduled\s+\S+\s+2026-11-24T07:05:00Z\s+5\s/,
  );
});

test('args, kwargs and headers keep arbitrary JSON through the API server', async () => {
  const name = 'free-json';
  const args = [1, 'two', 3.5, true, null, { nested: [1, { deep: 'x' }] }, []];
  const kwargs = { a: { b: [null, false] }, 'key with space': 'v', n: -7 };
  const headers = { tenant: 'acme', trace: { id: 42 } };
  const spec = {
    task: 'tasks.record',
    interval: { every: 1, period: 'minutes' },
    args,
    kwargs,
    options: { headers },
  };
  await cluster.kubectl(['apply', '-n', namespace, '-f', '-'], {
    input: JSON.stringify(invalidManifest({ name, spec, field: '', apiServer: false, metadataName: name })),
  });
  const stored = JSON.parse(await cluster.kubectl(['get', 'pt', name, '-n', namespace, '-o', 'json']));
  assert.deepEqual(stored.spec.args, args);
  assert.deepEqual(stored.spec.kwargs, kwargs);
  assert.deepEqual(stored.spec.options.headers, headers);
  const verdict = validatePeriodicTask(stored, { defaultTimeZone: 'UTC' });
  assert.ok(verdict.ok);
  assert.deepEqual(verdict.definition.args, args);
});

const rejected = INVALID_CASES.filter((c) => c.apiServer);

test(`the API server rejects ${rejected.length} invalid manifests, naming the field the validator names`, async () => {
  assert.ok(rejected.length >= 25);
  const failures: string[] = [];
  await inBatches(rejected, 4, async (c: InvalidCase) => {
    const error = await applyError(invalidManifest(c));
    const verdict = validatePeriodicTask(invalidManifest(c), { defaultTimeZone: 'UTC' });
    if (error === null) failures.push(`${c.name}: accepted by the API server`);
    else if (!error.includes(c.field === 'spec' ? 'exactly one of' : c.field))
      failures.push(`${c.name}: ${error.trim()}`);
    if (verdict.ok || !verdict.errors.some((e) => e.field === c.field))
      failures.push(`${c.name}: validator disagrees`);
  });
  assert.deepEqual(failures, []);
});

test('what only the operator can check passes the API server and is rejected by the validator', async () => {
  const failures: string[] = [];
  await inBatches(
    INVALID_CASES.filter((c) => !c.apiServer),
    4,
    async (c: InvalidCase) => {
      const error = await applyError(invalidManifest(c));
      if (error !== null) failures.push(`${c.name}: rejected by the API server: ${error.trim()}`);
      const verdict = validatePeriodicTask(invalidManifest(c), { defaultTimeZone: 'UTC' });
      if (verdict.ok || !verdict.errors.some((e) => e.field === c.field))
        failures.push(`${c.name}: validator accepts it`);
    },
  );
  assert.deepEqual(failures, []);
});
