// A defect that escapes every handler is logged and counted and the process carries on; a burst of them ends it.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../../src/observe/logger.ts';
import { internalErrorsTotal } from '../../../src/observe/metrics.ts';
import { DEFECT_BURST_EXIT_CODE, handleUncaughtErrors } from '../../../src/observe/uncaught-errors.ts';

async function defects(): Promise<number> {
  return (await internalErrorsTotal.get()).values[0]?.value ?? 0;
}

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

test('an uncaught exception and an unhandled rejection are logged and counted, and nothing exits', async () => {
  const target = new EventEmitter();
  const { lines, stream } = capture();
  const exits: number[] = [];
  handleUncaughtErrors(target, createLogger('info', stream), { exit: (code) => exits.push(code) });
  const before = await defects();
  target.emit('uncaughtException', new RangeError('Maximum call stack size exceeded'));
  target.emit('unhandledRejection', new Error('rejected'));
  assert.equal(await defects(), before + 2);
  assert.equal(exits.length, 0);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    lines.map((l) => [l.level, l.msg]),
    [
      ['error', 'uncaught exception (a defect; the operator carries on)'],
      ['error', 'unhandled rejection (a defect; the operator carries on)'],
    ],
  );
});

test('more defects than the burst within the window exit; the same number spread out does not', async () => {
  let now = 0;
  const exits: number[] = [];
  const spread = new EventEmitter();
  handleUncaughtErrors(spread, createLogger('silent'), {
    burst: 3,
    windowMs: 1000,
    clock: () => now,
    exit: (code) => exits.push(code),
  });
  for (let i = 0; i < 10; i++) {
    now += 400;
    spread.emit('uncaughtException', new Error(`spread ${i}`));
  }
  assert.equal(exits.length, 0, 'spread out, no exit');
  const burst = new EventEmitter();
  handleUncaughtErrors(burst, createLogger('silent'), {
    burst: 3,
    windowMs: 1000,
    clock: () => now,
    exit: (code) => exits.push(code),
  });
  for (let i = 0; i < 4; i++) burst.emit('uncaughtException', new Error(`burst ${i}`));
  assert.deepEqual(exits, [DEFECT_BURST_EXIT_CODE]);
});
