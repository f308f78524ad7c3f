// A smaller sample of generated valid specs through a private real Redis and the real Lua scripts: the Beat
// with RedisTaskStore and either dispatcher (claim, push and record in one script on the same server; or claim,
// publish to a broker that sometimes fails, release), a few simulated slots each, keys vanishing now and then.
// The stored value stays readable by decodeTaskValue, its run state is the beat's, and no slot is pushed twice.
import assert from 'node:assert/strict';
import { after, before, mock, test } from 'node:test';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type { TaskDefinition } from '../../src/api/types.ts';
import { KOMBU_SEP, redisRouteFor } from '../../src/celery/redis-routing.ts';
import type { Broker, OutgoingMessage, PublishOutcome } from '../../src/contracts.ts';
import { decodeTaskValue } from '../../src/store/task-record.ts';
import { RedisTaskStore } from '../../src/store/task-store.ts';
import { validatePeriodicTask } from '../../src/validation/validate.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { prng } from './beat-sim.ts';
import { check } from './fc-config.ts';
import { beatOn, countedDispatcher, pushedSlots, scheduleAll, settled } from './redis-beat-harness.ts';
import { REFERENCE_MS, type Spec, validSpec } from './spec-arbitrary.ts';

const FILE = 'test/property/redis.test.ts';
const DAY_MS = 86_400_000;
const BROKER_DB = 1;

let server: RedisServer;
let redis: Redis;
let broker: Redis;

before(async () => {
  server = await startRedisServer();
  redis = new Redis(`${server.url}/0`);
  broker = new Redis(`${server.url}/${BROKER_DB}`);
  await Promise.all([redis.ping(), broker.ping()]);
});

after(async () => {
  redis?.disconnect();
  broker?.disconnect();
  await server?.stop();
});

interface Case {
  specs: Spec[];
  start: number;
  steps: number;
  atomic: boolean;
  failSeed: number;
  failRate: number;
  vanish: { step: number; task: number }[];
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  // Enabled: disabling is the beat property's business, here every task should reach Redis.
  specs: fc.array(
    validSpec({ clocked: 'safe' }).map((s) => ({ ...s, enabled: true })),
    { minLength: 1, maxLength: 3 },
  ),
  start: fc.integer({ min: REFERENCE_MS - 3 * DAY_MS, max: REFERENCE_MS + 3 * DAY_MS }),
  steps: fc.integer({ min: 3, max: 12 }),
  atomic: fc.boolean(),
  failSeed: fc.integer(),
  failRate: fc.constantFrom(0, 0.3),
  vanish: fc.array(fc.record({ step: fc.nat(8), task: fc.nat(2) }), { maxLength: 2 }),
});

let run = 0;

async function runCase(c: Case): Promise<string[]> {
  run += 1;
  await broker.flushdb();
  const store = new RedisTaskStore(redis, { keyPrefix: `prop${run}:`, brokerDb: BROKER_DB });
  const random = prng(c.failSeed);
  const published: OutgoingMessage[] = [];
  const fakeBroker: Broker = {
    url: 'memory://',
    async publish(messages) {
      return messages.map((m): PublishOutcome => {
        if (random() < c.failRate) return { ok: false, error: new Error('simulated publish failure') };
        published.push(m);
        return { ok: true };
      });
    },
    async revoke() {
      throw new Error('these tasks never overlap');
    },
    async close() {},
  };
  const dispatcher = countedDispatcher(store, broker, fakeBroker, c.atomic);
  const defs: TaskDefinition[] = [];
  for (const [i, spec] of c.specs.entries()) {
    const result = validatePeriodicTask(
      {
        apiVersion: 'celerybeat.io/v1alpha1',
        kind: 'PeriodicTask',
        metadata: { name: `t${i}`, namespace: 'prop', uid: `u${run}-${i}` },
        spec,
      },
      { defaultTimeZone: 'UTC' },
    );
    if (!result.ok) return [`validator refuses a generated valid spec: ${JSON.stringify(result.errors)}`];
    defs.push(result.definition);
    // An explicit exchange routes through kombu's binding set: bind the task's queue so its messages go somewhere.
    const route = redisRouteFor(result.definition.options);
    if (route.exchange !== '')
      await broker.sadd(
        `_kombu.binding.${route.exchange}`,
        `${route.routingKey}${KOMBU_SEP}${KOMBU_SEP}${result.definition.options.queue}`,
      );
  }
  const problems: string[] = [];
  const rejected: string[] = [];
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: c.start });
  const beat = beatOn(dispatcher, (def, reason, problem) => {
    if (problem !== 'PublishFailed') rejected.push(`${def.name}: ${reason}`);
  });
  const settle = async (): Promise<void> => {
    if (!(await settled(dispatcher))) problems.push('the beat did not settle');
  };
  try {
    await scheduleAll(store, beat, defs);
    beat.start();
    for (let s = 0; s < c.steps; s++) {
      for (const v of c.vanish.filter((x) => x.step === s)) {
        const def = defs[v.task % defs.length]!;
        await redis.del(store.redisKey(`${def.namespace}/${def.name}`));
      }
      const now = Date.now();
      let due: number | null = null;
      for (const def of defs) {
        const next = beat.nextRunAt(`${def.namespace}/${def.name}`);
        if (next !== null && (due === null || next < due)) due = next;
      }
      const target = due === null ? now + DAY_MS : due <= now ? now + 1000 : Math.ceil(due);
      mock.timers.tick(Math.max(1, Math.min(target, now + 400 * DAY_MS) - now));
      await settle();
    }
    await beat.stop();
    await settle();
  } finally {
    mock.timers.reset();
  }

  problems.push(...rejected.map((r) => `message refused for a valid spec: ${r}`));
  const pushes = [
    ...(await pushedSlots(broker)),
    ...published.map((m) => ({
      name: String(m.message.headers.periodic_task_name),
      slot: String(m.message.headers.periodic_task_scheduled_at),
    })),
  ];
  const seen = new Set<string>();
  for (const p of pushes) {
    const id = `${p.name} ${p.slot}`;
    if (seen.has(id)) problems.push(`${id}: pushed twice`);
    seen.add(id);
  }
  for (const def of defs) {
    const key = `${def.namespace}/${def.name}`;
    const raw = await redis.get(store.redisKey(key));
    const state = beat.get(key)?.state;
    if (raw === null) {
      // A vanished key comes back when the reconciler writes it again (not part of this harness).
      if (!c.vanish.some((v) => defs[v.task % defs.length] === def)) problems.push(`${key}: the key is gone`);
      continue;
    }
    try {
      const stored = decodeTaskValue(raw);
      const owner = { namespace: def.namespace, name: def.name, uid: def.uid, operator: store.operatorId };
      assert.deepEqual(stored.owner, owner);
      assert.deepEqual(stored.runState, state, `${key}: the stored run state is not the beat's`);
      const runs = pushes.filter((p) => p.name === key).length;
      if (stored.runState?.totalRunCount !== runs)
        problems.push(`${key}: total_run_count ${stored.runState?.totalRunCount}, ${runs} pushes`);
    } catch (error) {
      problems.push(`${key}: ${(error as Error).message}`);
    }
  }
  return problems;
}

test(`valid specs through real Redis and the Lua scripts: readable values, run state round-trips, one push per slot (${FILE})`, async () => {
  await check(
    FILE,
    fc.asyncProperty(caseArb, async (c) => {
      assert.deepEqual(await runCase(c), []);
    }),
    40,
  );
});
