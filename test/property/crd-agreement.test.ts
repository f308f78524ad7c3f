// The validator and the real API server (the generated CRD's OpenAPI schema and CEL rules) agree on the verdict
// of generated specs: each is sent as a server-side dry-run create with strict field validation (what
// `kubectl apply` does), so nothing is stored. Invalid specs break one rule of one field; valid ones must pass
// both. The API server refusing what the validator accepts is always a defect; the validator refusing what the
// API server accepts is expected only for what the schema cannot see (zones, crontab values, dates).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { validatePeriodicTask } from '../../src/validation/validate.ts';
import { type ClusterHandle, sharedCluster } from '../testbed/cluster.ts';
import { check } from './fc-config.ts';
import { type InvalidCase, invalidSpec } from './invalid-arbitrary.ts';
import { type Spec, validSpec } from './spec-arbitrary.ts';

const FILE = 'test/property/crd-agreement.test.ts';
const CRD_FILE = new URL('../../crds/celerybeat.io_periodictasks.yaml', import.meta.url);

let cluster: ClusterHandle;
let agent: Agent;
let server: URL;
const namespace = `prop-${randomBytes(4).toString('hex')}`;
let counter = 0;

interface KubeconfigFile {
  users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
}

before(async () => {
  cluster = await sharedCluster();
  await cluster.kubectl(['apply', '-f', '-'], { input: await readFile(CRD_FILE, 'utf8') });
  await cluster.crdEstablished('periodictasks.celerybeat.io');
  await cluster.kubectl(['create', 'namespace', namespace]);
  const config = parse(await readFile(cluster.kubeconfigPath, 'utf8')) as KubeconfigFile;
  const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
  const { user } = config.users[0]!;
  const { cluster: c } = config.clusters[0]!;
  server = new URL(c.server);
  // One keep-alive connection pool with the admin client certificate: a few hundred requests, no kubectl spawns.
  agent = new Agent({
    keepAlive: true,
    maxSockets: 4,
    ca: b64(c['certificate-authority-data']),
    cert: b64(user['client-certificate-data']),
    key: b64(user['client-key-data']),
  });
});

after(async () => {
  agent?.destroy();
  await cluster?.kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

/** The API server's verdict on a create of `spec`: null when accepted, else its message. */
function apiVerdict(spec: unknown): Promise<string | null> {
  const body = JSON.stringify({
    apiVersion: 'celerybeat.io/v1alpha1',
    kind: 'PeriodicTask',
    metadata: { name: `p-${++counter}`, namespace },
    spec,
  });
  const path = `/apis/celerybeat.io/v1alpha1/namespaces/${namespace}/periodictasks?dryRun=All&fieldValidation=Strict`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: server.hostname,
        port: server.port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status === 201 || status === 200) resolve(null);
          else if (status === 422 || status === 400)
            resolve((JSON.parse(text) as { message?: string }).message ?? text);
          else reject(new Error(`API server answered ${status}: ${text.slice(0, 500)}`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function validatorVerdict(spec: unknown): string | null {
  const result = validatePeriodicTask(
    { apiVersion: 'celerybeat.io/v1alpha1', kind: 'PeriodicTask', metadata: { name: 'p', namespace }, spec },
    { defaultTimeZone: 'UTC' },
  );
  return result.ok ? null : result.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
}

const shown = (spec: unknown): string => {
  const text = JSON.stringify(spec);
  return text.length > 600 ? `${text.slice(0, 600)}… (${text.length} chars)` : text;
};

function disagreement(
  c: InvalidCase | { spec: Spec; what: string },
  api: string | null,
  validator: string | null,
): string {
  return [
    `${'field' in c ? `${c.field} ${c.what}` : c.what}`,
    `  spec: ${shown(c.spec)}`,
    `  API server: ${api === null ? 'accepted' : `refused: ${api}`}`,
    `  validator:  ${validator === null ? 'accepted' : `refused: ${validator}`}`,
  ].join('\n');
}

test(`the API server and the validator agree on generated invalid specs (${FILE})`, async () => {
  await check(
    FILE,
    fc.asyncProperty(invalidSpec, async (c) => {
      const api = await apiVerdict(c.spec);
      const validator = validatorVerdict(c.spec);
      // The validator must refuse every broken spec; the API server must when its schema can see the rule.
      const agrees = validator !== null && (api !== null || c.visibility === 'operator');
      assert.ok(agrees, disagreement(c, api, validator));
    }),
    300,
  );
});

test(`the API server accepts every generated valid spec (${FILE})`, async () => {
  await check(
    FILE,
    fc.asyncProperty(validSpec({ clocked: 'safe' }), async (spec) => {
      const api = await apiVerdict(spec);
      const validator = validatorVerdict(spec);
      assert.ok(
        api === null && validator === null,
        disagreement({ spec, what: 'valid spec' }, api, validator),
      );
    }),
    100,
  );
});
