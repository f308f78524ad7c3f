// ManualRuns against fakes of its interfaces, dispatching through the claim-then-publish dispatcher: a run-now
// token runs once whichever instance handles it and however often it is seen; a failed publish gives the
// claim back; one of unknown outcome keeps it and is counted; backfill runs only slots that did not run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualRuns } from '../../../src/beat/manual-runs.ts';
import { ABANDONED_CLAIM_MS, ClaimThenPublishDispatcher } from '../../../src/beat/slot-dispatcher.ts';
import type {
  Broker,
  ManualRunRecord,
  OutgoingMessage,
  RunState,
  SlotRange,
  StatusUpdate,
} from '../../../src/contracts.ts';
import { createLogger } from '../../../src/observe/logger.ts';
import { compileSchedule } from '../../../src/schedule/compile.ts';
import { definition, runState } from '../../support/fakes/definitions.ts';
import { MemoryTaskStore } from '../../support/fakes/memory-task-store.ts';

class MemoryRecord implements ManualRunRecord {
  /** The claims of manual runs are written by the store's dispatch, as in Redis. */
  store = new MemoryTaskStore();
  first = new Map<string, number>();
  ranges: SlotRange[] = [];
  async firstSeen(key: string, cursor: number) {
    if (!this.first.has(key)) this.first.set(key, cursor);
    return this.first.get(key)!;
  }
  async recordUnrun(_key: string, range: SlotRange) {
    this.ranges.push(range);
  }
  async read(key: string) {
    return { firstSeen: this.first.get(key) ?? null, unrun: this.ranges };
  }
  async forget() {}
}

function broker(failures = 0, unknown = 0) {
  const sent: OutgoingMessage[] = [];
  let fail = failures;
  let lost = unknown;
  const b: Broker = {
    url: 'memory://',
    async publish(messages) {
      if (fail > 0) {
        fail -= 1;
        return messages.map(() => ({ ok: false as const, error: new Error('down') }));
      }
      if (lost > 0) {
        lost -= 1;
        sent.push(...messages);
        const error = new Error('no confirm (the broker may still deliver it)');
        return messages.map(() => ({ ok: false as const, error, unknown: true }));
      }
      sent.push(...messages);
      return messages.map(() => ({ ok: true as const }));
    },
    async revoke() {},
    async close() {},
  };
  return { b, sent };
}

function manual(
  record: MemoryRecord,
  b: Broker,
  reports: StatusUpdate[] = [],
  maxBackfill = 100,
  counted?: (key: string, state: RunState) => void,
) {
  return new ManualRuns({
    record,
    dispatcher: new ClaimThenPublishDispatcher(record.store, b),
    ...(counted ? { counted } : {}),
    status: { report: (_ns, _n, u) => reports.push(u), flush: async () => {} },
    logger: createLogger('silent'),
    maxBackfill,
    retryMs: 5,
  });
}

const def = definition('m', { schedule: { kind: 'interval', every: 60, period: 'seconds' } });
const schedule = compileSchedule(def.schedule, 'UTC');
const T = Date.UTC(2030, 0, 1);
const until = async (what: string, check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), what);
};

test('run-now: one run per token, across instances and repeated reads; the task id comes from the token', async () => {
  const record = new MemoryRecord();
  const { b, sent } = broker();
  const reports: StatusUpdate[] = [];
  const one = manual(record, b, reports);
  const two = manual(record, b);
  const req = {
    def,
    schedule,
    state: runState(T),
    annotations: { 'celerybeat.io/run-now': 'tok-1' },
    status: undefined,
  };
  one.request(req);
  two.request(req);
  await until('handled', () => reports.some((r) => r.lastRunNow === 'tok-1'));
  one.request(req);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(sent.length, 1, 'the token ran once');
  assert.equal(sent[0]?.message.headers.periodic_task_name, 'ns/m');
  one.request({ ...req, annotations: { 'celerybeat.io/run-now': 'tok-2' } });
  await until('the second token', () => sent.length === 2);
  assert.notEqual(sent[0]?.message.headers.id, sent[1]?.message.headers.id);
});

test('run-now: a publish the broker refused gives the claim back and is retried', async () => {
  const record = new MemoryRecord();
  const { b, sent } = broker(2);
  const m = manual(record, b);
  m.request({
    def,
    schedule,
    state: runState(T),
    annotations: { 'celerybeat.io/run-now': 'x' },
    status: undefined,
  });
  await until('sent after the broker came back', () => sent.length === 1);
  m.stop();
});

test('backfill: slots before the task existed and slots that did not run are sent once; the others are not', async () => {
  const record = new MemoryRecord();
  const { b, sent } = broker();
  const reports: StatusUpdate[] = [];
  const m = manual(record, b, reports);
  await record.firstSeen('ns/m', T + 120_000);
  await record.recordUnrun('ns/m', { after: T + 240_000, upTo: T + 360_000 - 0.001 }); // 300 s missed
  const state = runState(T + 480_000);
  const annotations = {
    'celerybeat.io/backfill': `${new Date(T).toISOString()}/${new Date(T + 600_000).toISOString()}`,
  };
  m.request({ def, schedule, state, annotations, status: undefined });
  await until('done', () => reports.some((r) => r.backfill?.state === 'Done'));
  const slots = sent.map((s) => Date.parse(String(s.message.headers.periodic_task_scheduled_at)) - T);
  assert.deepEqual(slots, [0, 60_000, 120_000, 300_000], 'oldest first; after the cursor nothing');
  assert.deepEqual(reports.at(-1)?.backfill, {
    range: annotations['celerybeat.io/backfill'],
    slots: 9,
    sent: 4,
    alreadyRun: 5,
    state: 'Done',
  });
  const again = manual(record, b);
  again.request({ def, schedule, state, annotations, status: undefined });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(sent.length, 4, 'a second backfill of the range sends nothing again');
});

test('backfill: a range larger than --max-backfill sends nothing and says so', async () => {
  const { b, sent } = broker();
  const reports: StatusUpdate[] = [];
  const m = manual(new MemoryRecord(), b, reports, 3);
  const annotations = {
    'celerybeat.io/backfill': `${new Date(T).toISOString()}/${new Date(T + 600_000).toISOString()}`,
  };
  m.request({ def, schedule, state: runState(T + 600_000), annotations, status: undefined });
  await until('refused', () => reports.some((r) => r.backfill?.state === 'TooLarge'));
  assert.equal(sent.length, 0);
  assert.match(reports.at(-1)?.backfill?.message ?? '', /more than 3 slots \(--max-backfill\)/);
});

test('run-now: a publish of unknown outcome keeps its claim: counted as unknown, never sent again', async () => {
  const record = new MemoryRecord();
  record.store.put('ns/m', def.uid, runState(T));
  const { b, sent } = broker(0, 1);
  const reports: StatusUpdate[] = [];
  const counted: RunState[] = [];
  const m = manual(record, b, reports, 100, (_key, state) => counted.push(state));
  const req = {
    def,
    schedule,
    state: runState(T),
    annotations: { 'celerybeat.io/run-now': 'lost' },
    status: undefined,
  };
  m.request(req);
  await until('handled', () => reports.some((r) => r.lastRunNow === 'lost'));
  assert.equal(sent.length, 1, 'sent once, unconfirmed');
  assert.deepEqual([...record.store.manualClaims.values()], ['unknown']);
  assert.equal(record.store.stateOf('ns/m')?.unknownRunCount, 1, 'counted in the run state');
  assert.equal(counted[0]?.unknownRunCount, 1, 'the beat is told of the count');
  const other = manual(record, b);
  other.request(req);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(sent.length, 1, 'another instance does not send it again');
  assert.equal(record.store.stateOf('ns/m')?.unknownRunCount, 1, 'counted once');
});

test('a claim left under way (a crash between claim and publish) is counted as unknown once it is old, never sent', async () => {
  const record = new MemoryRecord();
  record.store.put('ns/m', def.uid, runState(T));
  const { b, sent } = broker();
  const claimedAt = Date.now() - ABANDONED_CLAIM_MS - 1000;
  record.store.manualClaims.set('ns/m|run-now:crashed', `publishing:${claimedAt}`);
  const reports: StatusUpdate[] = [];
  const m = manual(record, b, reports);
  m.request({
    def,
    schedule,
    state: runState(T),
    annotations: { 'celerybeat.io/run-now': 'crashed' },
    status: undefined,
  });
  await until('handled', () => reports.some((r) => r.lastRunNow === 'crashed'));
  assert.equal(sent.length, 0, 'not sent');
  assert.equal(record.store.manualClaims.get('ns/m|run-now:crashed'), 'unknown');
  assert.equal(record.store.stateOf('ns/m')?.unknownRunCount, 1);
});

test('a claim under way elsewhere for a short time is left to finish: asked again later, not sent', async () => {
  const record = new MemoryRecord();
  const { b, sent } = broker();
  record.store.manualClaims.set('ns/m|run-now:busy', `publishing:${Date.now()}`);
  const reports: StatusUpdate[] = [];
  const m = manual(record, b, reports);
  m.request({
    def,
    schedule,
    state: runState(T),
    annotations: { 'celerybeat.io/run-now': 'busy' },
    status: undefined,
  });
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(sent.length, 0);
  assert.equal(reports.length, 0, 'not handled yet');
  record.store.manualClaims.set('ns/m|run-now:busy', 'sent');
  await until('handled once the other publish is recorded', () =>
    reports.some((r) => r.lastRunNow === 'busy'),
  );
  assert.equal(sent.length, 0);
  m.stop();
});
