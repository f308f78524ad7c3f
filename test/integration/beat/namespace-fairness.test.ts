// Namespaces take turns in the dispatch batches, on a real Redis broker: 10,000 tasks of one namespace fall due
// together every 10 s, and another namespace's every-second task falls due a millisecond after each wave. Its
// run goes out after the batches already under way, not after the whole wave (in the order the broker list
// received them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intervalTask } from '../../support/manifests.ts';
import { waitUntil } from '../../support/ports.ts';
import { useStandaloneBed } from '../../support/standalone-bed.ts';

const bed = useStandaloneBed();
const QUEUE = 'fairness';
const FLOOD = 10_000;
const START = '2026-01-01T00:00:00Z';

interface Sent {
  name: string;
  scheduledAt: number;
}

/** The messages in the order they were sent (kombu pushes on the left). */
async function sentInOrder(): Promise<Sent[]> {
  const raw = await bed.redis.lrange(QUEUE, 0, -1);
  return raw.reverse().map((r) => {
    const headers = (JSON.parse(r) as { headers: Record<string, string> }).headers;
    return {
      name: headers.periodic_task_name!,
      scheduledAt: Date.parse(headers.periodic_task_scheduled_at!),
    };
  });
}

test("a wave of 10,000 due slots in one namespace does not hold back another namespace's slot", {
  timeout: 240_000,
}, async () => {
  const dir = await bed.manifests();
  const options = { queue: QUEUE };
  const flood = Array.from({ length: FLOOD }, (_, i) =>
    intervalTask(`bulk-${i}`, 10, { startTime: START, options }, 'flood'),
  );
  // On the same grid a millisecond later: due just after each wave has started going out.
  const quiet = intervalTask('tick', 1, { startTime: '2026-01-01T00:00:00.001Z', options }, 'quiet');
  await dir.write('flood.yaml', ...flood, quiet);
  const operator = bed.operator(dir, ['--log-level', 'warn']);
  try {
    // Two full waves after every task is loaded: each flood task has run at least twice.
    let sent: Sent[] = [];
    await waitUntil(
      'two full waves',
      async () => {
        sent = await sentInOrder();
        const waves = new Map<number, number>();
        for (const s of sent)
          if (s.name.startsWith('flood/')) waves.set(s.scheduledAt, (waves.get(s.scheduledAt) ?? 0) + 1);
        return [...waves.values()].filter((n) => n === FLOOD).length >= 2;
      },
      180_000,
    );
    const full = new Map<number, number>();
    for (const s of sent)
      if (s.name.startsWith('flood/')) full.set(s.scheduledAt, (full.get(s.scheduledAt) ?? 0) + 1);
    const waves = [...full].filter(([, n]) => n === FLOOD).map(([at]) => at);
    for (const wave of waves) {
      const quietAt = sent.findIndex((s) => s.name === 'quiet/tick' && s.scheduledAt === wave + 1);
      assert.ok(quietAt >= 0, `the quiet task ran at ${new Date(wave + 1).toISOString()}`);
      const floodBefore = sent.slice(0, quietAt).filter((s) => s.scheduledAt === wave).length;
      // Two batches of 1,000 under way when it fell due, then its own batch: never behind the whole wave.
      assert.ok(
        floodBefore <= 3000,
        `${floodBefore} of the wave's ${FLOOD} runs went out before the quiet namespace's run`,
      );
    }
  } finally {
    await operator.stop();
  }
});
