// The heap governor's rule: size is favoured until collector pauses take more than a quarter of the time;
// then speed, until the pauses stay under 5 % for a minute (six windows), so one quiet window does not
// flip it back and forth.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BUSY_SHARE,
  BUSY_TO_SPEED_SHARE,
  HeapGovernor,
  type HeapMode,
  TO_SIZE_SHARE,
  TO_SIZE_WINDOWS,
  TO_SPEED_SHARE,
} from '../../../src/observe/heap-tuning.ts';

const WINDOW = 10_000;
const pauses = (share: number): number => share * WINDOW;

function governor(): { g: HeapGovernor; applied: HeapMode[] } {
  const applied: HeapMode[] = [];
  return { g: new HeapGovernor((mode) => applied.push(mode)), applied };
}

test('starts favouring size, and stays there while pauses are a small share', () => {
  const { g, applied } = governor();
  assert.deepEqual(applied, ['size']);
  for (let i = 0; i < 100; i += 1) g.window(pauses(TO_SPEED_SHARE), WINDOW);
  assert.equal(g.mode, 'size');
  assert.deepEqual(applied, ['size']);
});

test('a window with more than a quarter of the time in pauses favours speed at once', () => {
  const { g, applied } = governor();
  g.window(pauses(0.3), WINDOW);
  assert.equal(g.mode, 'speed');
  assert.deepEqual(applied, ['size', 'speed']);
});

test('back to size only after six quiet windows in a row; a busy one starts the count again', () => {
  const { g, applied } = governor();
  g.window(pauses(0.5), WINDOW);
  for (let i = 0; i < TO_SIZE_WINDOWS - 1; i += 1) g.window(pauses(TO_SIZE_SHARE / 2), WINDOW);
  g.window(pauses(0.1), WINDOW);
  assert.equal(g.mode, 'speed', 'a window at 10 % resets the quiet count');
  for (let i = 0; i < TO_SIZE_WINDOWS - 1; i += 1) g.window(pauses(TO_SIZE_SHARE / 2), WINDOW);
  assert.equal(g.mode, 'speed');
  g.window(pauses(TO_SIZE_SHARE / 2), WINDOW);
  assert.equal(g.mode, 'size');
  assert.deepEqual(applied, ['size', 'speed', 'size']);
});

test('while the event loop is busy, a tenth of the time in pauses favours speed; it stays while busy', () => {
  const { g, applied } = governor();
  g.window(pauses(BUSY_TO_SPEED_SHARE * 1.5), WINDOW, BUSY_SHARE / 2);
  assert.equal(g.mode, 'size', 'the same pauses in an idle process keep favouring size');
  g.window(pauses(BUSY_TO_SPEED_SHARE * 1.5), WINDOW, BUSY_SHARE);
  assert.equal(g.mode, 'speed');
  for (let i = 0; i < 2 * TO_SIZE_WINDOWS; i += 1) g.window(pauses(TO_SIZE_SHARE / 2), WINDOW, 0.99);
  assert.equal(g.mode, 'speed', 'quiet pauses do not count while the loop is busy');
  for (let i = 0; i < TO_SIZE_WINDOWS; i += 1) g.window(pauses(TO_SIZE_SHARE / 2), WINDOW, 0.5);
  assert.equal(g.mode, 'size');
  assert.deepEqual(applied, ['size', 'speed', 'size']);
});

test('an empty window (no time passed) counts as no pauses', () => {
  const { g } = governor();
  g.window(5, 0);
  assert.equal(g.mode, 'size');
});
