import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, redactUrl, taskLogger } from '../../../src/observe/logger.ts';

test('redactUrl hides passwords and bare tokens, keeps the rest', () => {
  assert.equal(redactUrl('redis://:s3cret@redis:6379/0'), 'redis://:***@redis:6379/0');
  assert.equal(redactUrl('amqp://guest:guest@127.0.0.1:5672//'), 'amqp://guest:***@127.0.0.1:5672//');
  assert.equal(redactUrl('rediss://token@host:6380'), 'rediss://***@host:6380');
  assert.equal(redactUrl('redis://127.0.0.1:6379/0'), 'redis://127.0.0.1:6379/0');
  assert.equal(redactUrl('not a url //user:pw@host'), 'not a url //***@host');
});

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
