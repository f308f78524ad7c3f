// The Events rate limit is per namespace: one namespace's thousands of warnings do not use up another's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventRecorder } from '../../../src/kube/event-recorder.ts';
import type { EventRecord } from '../../../src/kube/kube-calls.ts';
import { createLogger } from '../../../src/observe/logger.ts';

test("a namespace's flood of Events leaves another namespace its own budget", async () => {
  const sent: Array<{ namespace: string; event: EventRecord }> = [];
  const recorder = new EventRecorder(
    { createEvent: async (namespace, event) => void sent.push({ namespace, event }) },
    { logger: createLogger('fatal'), reportingInstance: 'operator-0', qps: 0.001, burst: 5 },
  );
  for (let i = 0; i < 1000; i += 1)
    recorder.warning({ namespace: 'flood', name: `bad-${i}` }, 'InvalidSpec', 'no');
  recorder.warning({ namespace: 'quiet', name: 'one' }, 'InvalidSpec', 'spec.timeZone: unknown zone');
  await recorder.flush();
  assert.equal(sent.filter((s) => s.namespace === 'flood').length, 5, "the flood gets its namespace's burst");
  assert.deepEqual(
    sent.filter((s) => s.namespace === 'quiet').map((s) => s.event.note),
    ['spec.timeZone: unknown zone'],
  );
});
