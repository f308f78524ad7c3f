// `--log-format`: readable lines for a person at a terminal (a real pseudo-terminal, made by util-linux
// `script`), JSON lines in a pipe (as in a pod), and either one when asked for.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { intervalTask, type ManifestDir, manifestDir } from '../../support/manifests.ts';
import { waitUntil } from '../../support/ports.ts';
import { usePrivateRedis } from '../../support/private-redis.ts';
import { type ManagedProcess, startProcess, tail } from '../../support/process.ts';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
const store = usePrivateRedis();
let dir: ManifestDir;

before(async () => {
  dir = await manifestDir();
  await dir.write('task.yaml', intervalTask('hello', 1, {}, 'team-a'));
});
after(() => dir?.remove());

const quote = (arg: string): string => `'${arg.replaceAll("'", `'\\''`)}'`;

/** Runs the operator until its first run is logged; its output, on a terminal or through a pipe. */
async function output(
  how: 'terminal' | 'pipe',
  flags: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const argv = [
    process.execPath,
    MAIN,
    'run',
    '--manifests',
    dir.path,
    '--redis-url',
    store.server.url,
    '--metrics-addr',
    '127.0.0.1:0',
    '--health-addr',
    '127.0.0.1:0',
    ...flags,
  ];
  const options = { env: { ...process.env, ...env } };
  const proc: ManagedProcess =
    how === 'terminal'
      ? startProcess(
          'operator on a terminal',
          'script',
          ['-qfec', argv.map(quote).join(' '), '/dev/null'],
          options,
        )
      : startProcess('operator in a pipe', argv[0]!, argv.slice(1), options);
  try {
    await waitUntil(
      () => `the first run logged:\n${tail(proc.output())}`,
      () => /task sent/.test(proc.output()),
      20_000,
    );
  } finally {
    await proc.stop();
  }
  return proc.output();
}

const sentLine = (text: string): string => text.split(/\r?\n/).find((l) => l.includes('task sent')) ?? '';

test('on a terminal: one readable line per event, with time, level, task and message', async () => {
  const line = sentLine(await output('terminal', []));
  // Colours are for the terminal; the words are what a person reads.
  const plain = stripVTControlCharacters(line);
  assert.match(plain, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: team-a\/hello: task sent \{.*"totalRunCount":1/);
  assert.notEqual(plain, line, 'coloured on a terminal');
});

test('in a pipe, as in a pod: JSON lines, also on a terminal with --log-format json', async () => {
  for (const text of [await output('pipe', []), await output('terminal', ['--log-format', 'json'])]) {
    const event = JSON.parse(sentLine(text)) as Record<string, unknown>;
    assert.equal(event.msg, 'task sent');
    assert.equal(event.level, 'info');
    assert.equal(event.namespace, 'team-a');
    assert.equal(event.name, 'hello');
  }
});

test('LOG_FORMAT=text in a pipe: readable lines without colour codes', async () => {
  const line = sentLine(await output('pipe', [], { LOG_FORMAT: 'text' }));
  assert.match(line, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: team-a\/hello: task sent /);
});
