import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConfigError, parseRunConfig } from '../../../src/cli/run-config.ts';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

test('defaults follow the design: lease with an API server, redis standalone, broker = store', () => {
  const config = parseRunConfig([], {});
  assert.ok(config !== 'help');
  assert.equal(config.redisUrl, 'redis://127.0.0.1:6379/0');
  assert.equal(config.brokerUrl, config.redisUrl);
  assert.equal(config.keyPrefix, 'tasks:meta:');
  assert.equal(config.timezone, 'UTC');
  assert.equal(config.leaderElect, 'lease');
  assert.equal(config.metricsAddr, ':8080');
  assert.equal(config.healthAddr, ':8081');
  assert.equal(config.operatorId, undefined, 'derived at start from the Lease or the lock');
  assert.equal(config.resyncMs, 300_000);
  assert.equal(config.holdOverLimitMs, undefined, 'four lease durations, applied by the Lease leadership');
  const standalone = parseRunConfig(['--manifests', 'dir'], {});
  assert.ok(standalone !== 'help');
  assert.equal(standalone.leaderElect, 'redis');
  assert.equal(standalone.secretsDir, undefined);
  const withSecrets = parseRunConfig(['--manifests', 'dir'], { SECRETS_DIR: '/run/broker-secrets' });
  assert.ok(withSecrets !== 'help');
  assert.equal(withSecrets.secretsDir, '/run/broker-secrets');
});

test('the broker defaults to the store whatever form --redis-url takes, Sentinel and TLS included', () => {
  for (const redisUrl of [
    'redis+sentinel://s1:26379,s2/mymaster/1',
    'rediss+sentinel://:pw@s1/mymaster',
    'rediss://:pw@redis:6380/2?ssl_cert_reqs=none',
  ]) {
    const config = parseRunConfig(['--redis-url', redisUrl], {});
    assert.ok(config !== 'help');
    assert.equal(config.brokerUrl, redisUrl, redisUrl);
  }
});

test('flags win over environment variables, which win over defaults', () => {
  const env = {
    REDIS_URL: 'redis://env:6379/1',
    CELERY_BROKER_URL: 'amqp://guest:guest@mq:5672//',
    TIMEZONE: 'Europe/Berlin',
    OPERATOR_ID: 'team-a/celerybeat-operator',
  };
  const config = parseRunConfig(
    ['--timezone', 'Asia/Kolkata', '--resync-period', '2.5', '--hold-over-limit', '90'],
    env,
  );
  assert.ok(config !== 'help');
  assert.equal(config.holdOverLimitMs, 90_000);
  assert.equal(config.operatorId, 'team-a/celerybeat-operator');
  assert.equal(config.resyncMs, 2500);
  assert.equal(config.redisUrl, 'redis://env:6379/1');
  assert.equal(config.brokerUrl, 'amqp://guest:guest@mq:5672//');
  assert.equal(config.timezone, 'Asia/Kolkata');
});

test('URLs can be read from files (mounted Secrets), each given one way only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'run-config-'));
  const file = (name: string, content: string): string => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };
  const redis = file('redis-url', 'rediss://:pw@redis:6380/2?ssl_ca_certs=/tls/ca.crt\n');
  const broker = file('broker-url', 'amqps://celery:pw@mq:5671/celery');
  const results = file('result-backend-url', 'redis://results:6379/1\n');
  const config = parseRunConfig(['--broker-url-file', broker], {
    REDIS_URL_FILE: redis,
    CELERY_RESULT_BACKEND_FILE: results,
  });
  assert.ok(config !== 'help');
  assert.equal(config.redisUrl, 'rediss://:pw@redis:6380/2?ssl_ca_certs=/tls/ca.crt', 'line end dropped');
  assert.equal(config.brokerUrl, 'amqps://celery:pw@mq:5671/celery');
  assert.equal(config.resultBackend, 'redis://results:6379/1');
  const storeOnly = parseRunConfig(['--redis-url-file', redis], {});
  assert.ok(storeOnly !== 'help');
  assert.equal(storeOnly.brokerUrl, storeOnly.redisUrl, 'the broker still defaults to the store');

  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [
      ['--redis-url-file', redis],
      { REDIS_URL: 'redis://x' },
      /--redis-url and --redis-url-file are both set/,
    ],
    [['--broker-url', 'amqp://mq', '--broker-url-file', broker], {}, /--broker-url and --broker-url-file/],
    [['--redis-url-file', join(dir, 'missing')], {}, /--redis-url-file: cannot read ".*missing": ENOENT/],
    [['--result-backend-file', file('empty', '\n')], {}, /--result-backend-file: ".*empty" is empty/],
    [['--redis-url-file', file('bad', 'http://:pw@x')], {}, /--redis-url: scheme must be/],
  ];
  for (const [argv, env, message] of cases) {
    assert.throws(
      () => parseRunConfig(argv, env),
      (error: unknown) =>
        error instanceof ConfigError && message.test(error.message) && !error.message.includes(':pw@'),
      argv.join(' '),
    );
  }
});

test('the Lease: its name and namespace, by default celerybeat-operator in the pod namespace', () => {
  const defaults = parseRunConfig([], {});
  assert.ok(defaults !== 'help');
  assert.equal(defaults.leaseName, 'celerybeat-operator');
  assert.equal(defaults.leaseNamespace, undefined, 'resolved at start from POD_NAMESPACE or the kubeconfig');
  const set = parseRunConfig(['--lease-name', 'beat-team-a'], { LEASE_NAMESPACE: 'leases' });
  assert.ok(set !== 'help');
  assert.equal(set.leaseName, 'beat-team-a');
  assert.equal(set.leaseNamespace, 'leases');
  assert.throws(() => parseRunConfig(['--lease-name', 'Beat_A'], {}), /--lease-name must be .*got "Beat_A"/);
  assert.throws(
    () => parseRunConfig(['--lease-namespace', 'a.b'], {}),
    /--lease-namespace must be a namespace name .*got "a.b"/,
  );
});

test('each bad value is refused naming the flag and the value, without leaking a password', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--redis-url', 'http://x'], /--redis-url: scheme must be redis:\/\/, rediss:\/\/, .* got "http:\/\/"/],
    [
      ['--redis-url', 'redis://a:1,b:2/0'],
      /--redis-url: several hosts need redis\+sentinel:\/\/ .* or --redis-cluster/,
    ],
    [['--redis-url', 'redis+sentinel://s1:26379'], /--redis-url: a Sentinel URL needs the master name/],
    [['--redis-cluster', '--broker-url', 'amqp://mq'], /--key-prefix "tasks:meta:" needs a hash tag/],
    [['--redis-cluster', '--key-prefix', '{t}:'], /--redis-cluster needs --broker-url/],
    [['--durable-claims', 'maybe'], /--durable-claims must be auto, on or off/],
    [['--broker-url', 'kafka://x'], /--broker-url: scheme must be one of/],
    [['--redis-url', 'redis://h/db'], /database must be a number, got "db"/],
    [['--leader-elect', 'maybe'], /--leader-elect must be lease, redis or none, got "maybe"/],
    [['--manifests', 'd', '--leader-elect', 'lease'], /needs an API server/],
    [['--secrets-dir', 's'], /--secrets-dir is for standalone mode/],
    [['--timezone', 'Mars/Olympus'], /unknown IANA time zone "Mars\/Olympus"/],
    [['--log-level', 'loud'], /--log-level: unknown level "loud"/],
    [['--kube-api-qps=-1'], /--kube-api-qps must be a positive number/],
    [['--key-prefix', ''], /--key-prefix must not be empty/],
    [['--operator-id', ''], /--operator-id must not be empty/],
    [['--resync-period', '0'], /--resync-period must be a positive number, got "0"/],
    [['--hold-over-limit', 'soon'], /--hold-over-limit must be a positive number, got "soon"/],
    [['--no-such-flag'], /no-such-flag/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseRunConfig(argv, {}),
      (error: unknown) => error instanceof ConfigError && message.test(error.message),
      argv.join(' '),
    );
  }
  assert.throws(
    () => parseRunConfig(['--redis-url', 'redis://:secret@host:6379/x'], {}),
    (error: unknown) => error instanceof Error && !error.message.includes('secret'),
  );
});

test('the command fails at start with one clear line and exit code 2', async () => {
  await assert.rejects(run(process.execPath, [MAIN, 'run', '--leader-elect', 'maybe']), (error: unknown) => {
    const { code, stderr } = error as { code: number; stderr: string };
    assert.equal(code, 2);
    assert.equal(stderr.trim().split('\n').length, 1);
    assert.match(stderr, /^celerybeat-operator run: --leader-elect must be lease, redis or none/);
    return true;
  });
});
