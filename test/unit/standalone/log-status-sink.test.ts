// Standalone mode logs each change of a task's Ready condition once: a repeat is not logged, a change is, and
// that holds for every task while more distinct texts are seen than the sink keeps shared.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readyCondition } from '../../../src/controller/task-status.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { LogStatusSink } from '../../../src/standalone/log-status-sink.ts';

function rig() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) });
  return { sink: new LogStatusSink(logger), lines };
}

test('a Ready condition is logged when it changes, not when it repeats', () => {
  const { sink, lines } = rig();
  sink.report('ns', 'a', { ready: readyCondition('True', 'Scheduled', '') });
  sink.report('ns', 'a', { ready: readyCondition('True', 'Scheduled', '') });
  sink.report('ns', 'b', { ready: readyCondition('True', 'Scheduled', '') });
  sink.report('ns', 'a', { ready: readyCondition('False', 'InvalidSpec', 'spec.task: required') });
  sink.report('ns', 'a', { nextRunAt: null });
  sink.report('ns', 'a', { ready: readyCondition('True', 'Scheduled', '') });
  assert.deepEqual(
    lines.map((l) => [l.name, (l.ready as { reason: string }).reason]),
    [
      ['a', 'Scheduled'],
      ['b', 'Scheduled'],
      ['a', 'InvalidSpec'],
      ['a', 'Scheduled'],
    ],
  );
});

test('changes are still told apart once more distinct texts were seen than are kept shared', () => {
  const { sink, lines } = rig();
  const tasks = 3000;
  for (let i = 0; i < tasks; i += 1)
    sink.report('ns', `t${i}`, { ready: readyCondition('True', 'Scheduled', `note ${i}`) });
  for (let i = 0; i < tasks; i += 1)
    sink.report('ns', `t${i}`, { ready: readyCondition('True', 'Scheduled', `note ${i}`) });
  assert.equal(lines.length, tasks, 'a repeat of a text the full table does not hold is not a change');
  for (let i = 0; i < tasks; i += 1)
    sink.report('ns', `t${i}`, { ready: readyCondition('True', 'Scheduled', `next ${i}`) });
  assert.equal(lines.length, 2 * tasks, 'every change is logged');
});
