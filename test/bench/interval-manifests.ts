// The standalone benchmarks' manifest files: N interval tasks, 1,000 a file (the source reads one file at a
// time, as a real manifest directory would be), their slots spread over the interval (startTime offsets), as
// tasks created at different times would be.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const TASKS_PER_FILE = 1000;

export interface IntervalManifests {
  count: number;
  /** Seconds between runs of each task. */
  every: number;
  queue: string;
  /** The first task's first slot, epoch ms. */
  gridStart: number;
}

export async function writeIntervalManifests(dir: string, m: IntervalManifests): Promise<void> {
  for (let file = 0; file * TASKS_PER_FILE < m.count; file += 1) {
    const docs: string[] = [];
    for (let i = file * TASKS_PER_FILE; i < Math.min(m.count, (file + 1) * TASKS_PER_FILE); i += 1) {
      docs.push(
        JSON.stringify({
          apiVersion: 'celerybeat.io/v1alpha1',
          kind: 'PeriodicTask',
          metadata: { name: `task-${i}`, namespace: 'bench' },
          spec: {
            task: 'tasks.record',
            interval: { every: m.every, period: 'seconds' },
            startTime: new Date(m.gridStart + Math.floor((i * m.every * 1000) / m.count)).toISOString(),
            args: [i],
            options: { queue: m.queue },
          },
        }),
      );
    }
    await writeFile(join(dir, `tasks-${String(file).padStart(4, '0')}.yaml`), `${docs.join('\n---\n')}\n`);
  }
}
