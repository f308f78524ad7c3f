// The command line of `kubectl celerybeat`: kubectl's connection flags anywhere, each command's flags checked
// into one value, and one line naming the mistake otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../../src/cli/flag-check.ts';
import { durationMs, type Invocation, parsePluginArgs } from '../../../src/plugin/plugin-args.ts';

const NOW = new Date('2026-12-02T06:00:00.123Z');
const parse = (argv: string[], env: NodeJS.ProcessEnv = {}): Invocation => parsePluginArgs(argv, env, NOW);

function usageError(argv: string[]): string {
  try {
    parse(argv);
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    return error.message;
  }
  assert.fail(`${argv.join(' ')} was accepted`);
}

test('run-now: a token from the clock, or the given one; --wait with a default or given timeout', () => {
  assert.deepEqual(parse(['run-now', 'report']), {
    kind: 'action',
    name: 'report',
    connection: {},
    action: { command: 'run-now', token: '2026-12-02T06:00:00.123Z' },
  });
  const given = parse(['run-now', 'report', '--token', 'deploy-42', '--wait', '--timeout', '2m']);
  assert.deepEqual(given.kind === 'action' && given.action, {
    command: 'run-now',
    token: 'deploy-42',
    waitMs: 120_000,
  });
  const waiting = parse(['run-now', 'report', '--wait']);
  assert.equal(
    waiting.kind === 'action' && waiting.action.command === 'run-now' && waiting.action.waitMs,
    60_000,
  );
});

test("kubectl's connection flags before or after the command, short and long", () => {
  const a = parse(['-n', 'apps', '--context=prod', 'pause', 'report', '--reason', 'db migration']);
  const b = parse(['pause', '--kubeconfig', '/k', 'report', '--namespace=apps', '--reason=db migration']);
  assert.deepEqual(a.kind === 'action' && a.connection, { namespace: 'apps', context: 'prod' });
  assert.deepEqual(b.kind === 'action' && b.connection, { namespace: 'apps', kubeconfig: '/k' });
  assert.deepEqual(a.kind === 'action' && a.action, { command: 'pause', pause: { reason: 'db migration' } });
});

test('pause, backfill, resume, next and history read their flags', () => {
  const pause = parse(['pause', 'r', '--reason', 'x', '--until', '2026-12-24T18:00:00+01:00']);
  assert.deepEqual(pause.kind === 'action' && pause.action, {
    command: 'pause',
    pause: { reason: 'x', until: '2026-12-24T18:00:00+01:00' },
  });
  const backfill = parse(['backfill', 'r', '--from', '2026-12-01T00:00:00Z', '--to', '2026-12-01T06:00:00Z']);
  assert.deepEqual(backfill.kind === 'action' && backfill.action, {
    command: 'backfill',
    range: '2026-12-01T00:00:00Z/2026-12-01T06:00:00Z',
  });
  assert.deepEqual(
    parse(['resume', 'r']).kind === 'action' && (parse(['resume', 'r']) as { action: unknown }).action,
    {
      command: 'resume',
    },
  );
  const next = parse(['next', 'r', '--count', '3'], { TIMEZONE: 'Europe/Berlin' });
  assert.deepEqual(next.kind === 'action' && next.action, {
    command: 'next',
    count: 3,
    timeZone: 'Europe/Berlin',
  });
  const zone = parse(['next', 'r', '--timezone', 'UTC'], { TIMEZONE: 'Europe/Berlin' });
  assert.deepEqual(zone.kind === 'action' && zone.action, { command: 'next', count: 5, timeZone: 'UTC' });
  assert.deepEqual((parse(['history', 'r']) as { action: unknown }).action, { command: 'history' });
});

test('--help for the plugin and for each command, wherever it is', () => {
  assert.deepEqual(parse(['--help']), { kind: 'help' });
  assert.deepEqual(parse(['-h']), { kind: 'help' });
  assert.deepEqual(parse(['pause', '--help']), { kind: 'help', command: 'pause' });
  assert.deepEqual(parse(['-n', 'x', 'history', '-h']), { kind: 'help', command: 'history' });
  // --help wins over what is missing.
  assert.deepEqual(parse(['backfill', '--help']), { kind: 'help', command: 'backfill' });
});

test('every mistake is one line naming it', () => {
  assert.equal(usageError([]), 'no command given (see --help)');
  assert.equal(usageError(['delete', 'r']), 'unknown command "delete" (see --help)');
  assert.equal(usageError(['run-now']), 'run-now: no NAME given (see kubectl celerybeat run-now --help)');
  assert.equal(usageError(['run-now', 'a', 'b']), 'run-now: one NAME only, got a b');
  assert.equal(usageError(['run-now', 'a', '--reason', 'x']), 'unknown flag --reason (see --help)');
  assert.equal(usageError(['run-now', 'a', '-n']), 'flag -n needs a value (see --help)');
  assert.equal(usageError(['run-now', 'a', '--timeout', '5s']), '--timeout needs --wait');
  assert.equal(
    usageError(['run-now', 'a', '--wait', '--timeout', 'soon']),
    '--timeout must be a duration such as 30s, 5m or 1h, got "soon"',
  );
  assert.equal(usageError(['run-now', 'a', '--token=']), '--token must not be empty');
  assert.equal(usageError(['run-now', 'a', '--namespace=']), '--namespace must not be empty');
  assert.equal(
    usageError(['pause', 'a']),
    '--reason is required: why the task is paused (shown in its Ready condition)',
  );
  assert.equal(
    usageError(['pause', 'a', '--reason', 'x', '--until', 'tomorrow']),
    '--until "tomorrow": must be an RFC 3339 time with an offset, such as 2026-12-24T18:00:00Z',
  );
  assert.equal(
    usageError(['pause', 'a', '--reason', 'x', '--until', '2026-02-30T00:00:00Z']),
    '--until "2026-02-30T00:00:00Z": no such date',
  );
  assert.equal(
    usageError(['backfill', 'a', '--to', '2026-12-01T00:00:00Z']),
    '--from is required: the start of the range (RFC 3339)',
  );
  assert.equal(
    usageError(['backfill', 'a', '--from', '2026-12-02T00:00:00Z', '--to', '2026-12-01T00:00:00Z']),
    '--from 2026-12-02T00:00:00Z must be before --to 2026-12-01T00:00:00Z',
  );
  assert.equal(
    usageError(['next', 'a', '--count', '0']),
    '--count must be an integer from 1 to 10000, got "0"',
  );
});

test('durations as kubectl writes them', () => {
  assert.equal(durationMs('--timeout', '500ms'), 500);
  assert.equal(durationMs('--timeout', '90'), 90_000);
  assert.equal(durationMs('--timeout', '1.5m'), 90_000);
  assert.equal(durationMs('--timeout', '1h'), 3_600_000);
  assert.throws(() => durationMs('--timeout', '0s'), UsageError);
  assert.throws(() => durationMs('--timeout', '-5s'), UsageError);
});

test("kubectl's other connection flags, with kubectl's meaning", () => {
  const r = parse([
    'history',
    'report',
    '--cluster',
    'c',
    '--user=u',
    '-s',
    'https://api.example:6443',
    '--token',
    't',
    '--as',
    'jane',
    '--as-group',
    'dev',
    '--as-group=ops',
    '--insecure-skip-tls-verify',
    '--request-timeout',
    '5',
  ]);
  assert.deepEqual(r.kind === 'action' && r.connection, {
    cluster: 'c',
    user: 'u',
    server: 'https://api.example:6443',
    token: 't',
    impersonate: 'jane',
    impersonateGroups: ['dev', 'ops'],
    insecureSkipTlsVerify: true,
    requestTimeoutMs: 5000,
  });
  const none = parse(['history', 'report', '--request-timeout=0']);
  assert.equal(none.kind === 'action' && none.connection.requestTimeoutMs, 0);
  assert.equal(usageError(['history', 'report', '--as-group', 'dev']), '--as-group needs --as');
  assert.equal(usageError(['history', 'report', '--as', '']), '--as must not be empty');
  assert.match(
    usageError(['history', 'report', '--request-timeout', 'soon']),
    /--request-timeout must be a duration/,
  );
});

test('timeline takes no NAME, reads its window, grouping and -A, and names its mistakes', () => {
  const all = parse(['timeline', '-A', '--hours', '6', '--bucket', 'minute', '--by', 'task']);
  assert.deepEqual(all.kind === 'action' && all.action, {
    command: 'timeline',
    allNamespaces: true,
    timeZone: 'UTC',
    hours: '6',
    bucket: 'minute',
    by: 'task',
  });
  const namespace = parse(['-n', 'apps', 'timeline'], { TIMEZONE: 'Europe/Berlin' });
  assert.deepEqual(namespace.kind === 'action' && namespace, {
    kind: 'action',
    name: '',
    connection: { namespace: 'apps' },
    action: { command: 'timeline', allNamespaces: false, timeZone: 'Europe/Berlin' },
  });
  assert.equal(
    usageError(['timeline', 'reports']),
    'timeline: takes no NAME (it reads every task of the namespace, or of all with -A)',
  );
  assert.equal(
    usageError(['timeline', '--hours', '1000']),
    '--hours must be an integer from 1 to 744 (31 days), got "1000"',
  );
  assert.equal(usageError(['timeline', '--by', 'queue']), '--by must be namespace or task, got "queue"');
});
