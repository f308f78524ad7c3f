// `--leader-elect none`: every instance leads from the start until it releases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NoLeaderElection } from '../../../src/leadership/no-leader-election.ts';

test('leads at once, has no fencing token, and is always healthy', async () => {
  const leadership = new NoLeaderElection();
  const events: string[] = [];
  assert.equal(leadership.isLeader(), false, 'not leading before run()');
  leadership.run({
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
  });
  assert.deepEqual(events, ['started'], 'onStartedLeading is called synchronously, once');
  assert.equal(leadership.isLeader(), true);
  assert.equal(await leadership.confirm(), true);
  assert.equal(leadership.token, '');
  assert.equal(leadership.healthy(), true);
});

test('release() ends leadership without calling onStoppedLeading', async () => {
  const leadership = new NoLeaderElection();
  const events: string[] = [];
  leadership.run({
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
  });
  await leadership.release();
  assert.equal(leadership.isLeader(), false);
  assert.equal(await leadership.confirm(), false);
  assert.deepEqual(events, ['started']);
});
