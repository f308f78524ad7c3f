// Run settings shared by the property tests. Every run is seeded; a failure prints its seed and path, and
// FC_SEED (with FC_PATH to jump straight to the shrunk counterexample) replays it:
//   FC_SEED=123 FC_PATH="4:1:0" node --test test/property/beat.test.ts
// FC_RUNS multiplies every run count (FC_RUNS=10 for a long local soak).
import fc from 'fast-check';

const seedText = process.env.FC_SEED;
const pathText = process.env.FC_PATH;
const scaleText = process.env.FC_RUNS;

/** The seed of this process: given, or drawn once so that every property of the file reports the same one. */
export const SEED: number =
  seedText !== undefined && seedText !== '' ? Number(seedText) : (Date.now() ^ (process.pid << 8)) | 0;

const scale = scaleText !== undefined && scaleText !== '' ? Number(scaleText) : 1;

/** How to replay, appended to a failure so that the command is in the test report. */
export function replayHint(file: string): string {
  return `replay with FC_SEED=${SEED}${pathText ? ` FC_PATH=${pathText}` : ''} node --test ${file} (fast-check prints the path of the shrunk case above)`;
}

/** fast-check parameters for a property of `numRuns` runs (scaled by FC_RUNS). */
export function params<T>(numRuns: number): fc.Parameters<T> {
  const p: fc.Parameters<T> = { seed: SEED, numRuns: Math.max(1, Math.round(numRuns * scale)) };
  if (pathText !== undefined && pathText !== '') p.path = pathText;
  return p;
}

/**
 * Runs an async property and rethrows a failure with the replay command in its message (fast-check's own
 * report, with seed, path and counterexample, is kept as the first part).
 */
export async function check<Ts>(file: string, property: fc.IRawProperty<Ts>, numRuns: number): Promise<void> {
  const details = await fc.check(property, params<Ts>(numRuns));
  if (details.failed) {
    const cause =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`${fc.defaultReportMessage(details)}\nGot: ${cause}\n${replayHint(file)}`);
  }
}
