import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, taskLogger } from '../../../src/observe/logger.ts';

test('task loggers write JSON lines carrying namespace and name', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger('debug', sink);
  taskLogger(logger, 'team-a', 'nightly').info({ slot: 'x' }, 'dispatched');
  logger.trace('dropped below level');
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0] ?? '');
  assert.equal(record.level, 'info');
  assert.equal(record.namespace, 'team-a');
  assert.equal(record.name, 'nightly');
  assert.equal(record.msg, 'dispatched');
  assert.throws(() => createLogger('loud'), /invalid log level "loud"/);
});
