import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
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
  const standalone = parseRunConfig(['--manifests', 'dir'], {});
  assert.ok(standalone !== 'help');
  assert.equal(standalone.leaderElect, 'redis');
});

test('flags win over environment variables, which win over defaults', () => {
  const env = {
    REDIS_URL: 'redis://env:6379/1',
    CELERY_BROKER_URL: 'amqp://guest:guest@mq:5672//',
    TIMEZONE: 'Europe/Berlin',
  };
  const config = parseRunConfig(['--timezone', 'Asia/Kolkata'], env);
  assert.ok(config !== 'help');
  assert.equal(config.redisUrl, 'redis://env:6379/1');
  assert.equal(config.brokerUrl, 'amqp://guest:guest@mq:5672//');
  assert.equal(config.timezone, 'Asia/Kolkata');
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
    [['--timezone', 'Mars/Olympus'], /unknown IANA time zone "Mars\/Olympus"/],
    [['--log-level', 'loud'], /--log-level: unknown level "loud"/],
    [['--kube-api-qps=-1'], /--kube-api-qps must be a positive number/],
    [['--key-prefix', ''], /--key-prefix must not be empty/],
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
