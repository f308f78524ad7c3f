// Standalone mode restarting with its keys in Redis sends its first due run before it has read every manifest
// file: many files, and the due task's file is the last one read (files are read in name order).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intervalTask } from '../../support/manifests.ts';
import { waitUntil } from '../../support/ports.ts';
import { useStandaloneBed } from '../../support/standalone-bed.ts';

const bed = useStandaloneBed();
const FILES = 2000;

test('a restart sends its first due run from Redis before the manifest files are all read', {
  timeout: 180_000,
}, async () => {
  const dir = await bed.manifests();
  const queue = 'restart-from-store';
  for (let i = 0; i < FILES; i += 1) {
    await dir.write(
      `a-${String(i).padStart(5, '0')}.yaml`,
      intervalTask(`hourly-${i}`, 3600, { options: { queue } }),
    );
  }
  await dir.write('z-due.yaml', intervalTask('due', 1, { options: { queue } }));
  const runs = async () =>
    (await bed.redis.lrange(queue, 0, -1)).filter(
      (raw) => JSON.parse(raw).headers.periodic_task_name === 'default/due',
    ).length;
  const first = bed.operator(dir);
  try {
    await first.waitForLog('the files read', (l) => l.msg === 'manifests read', 60_000);
    await waitUntil('the first run of the due task', async () => (await runs()) >= 1, 30_000);
  } finally {
    await first.stop();
  }

  const restarted = bed.operator(dir);
  try {
    const sent = (l: Record<string, unknown>) => l.msg === 'task sent' && l.name === 'due';
    await restarted.waitForLog('a run of the due task', sent, 60_000);
    await restarted.waitForLog('the files read', (l) => l.msg === 'manifests read', 60_000);
    const logs = restarted.logs();
    const read = logs.findIndex((l) => l.msg === 'manifests read');
    assert.ok(logs.findIndex(sent) < read, 'the first due run went out before the files were all read');
    const loaded = logs.find((l) => l.msg === 'dispatching the tasks in Redis while the source is read');
    assert.equal(loaded?.loaded, FILES + 1, 'every key was read back');
  } finally {
    await restarted.stop();
  }
});
