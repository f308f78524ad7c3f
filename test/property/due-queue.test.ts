// The beat's due queue over random schedules in several namespaces: every due key comes out once, each
// namespace's keys in their due order, and a batch gives every namespace with keys due its fair share.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DueQueue } from '../../src/beat/due-queue.ts';
import { check } from './fc-config.ts';

const FILE = 'test/property/due-queue.test.ts';

const entry = fc.record({
  group: fc.constantFrom('a', 'b', 'c', 'd', ''),
  name: fc.integer({ min: 0, max: 40 }),
  due: fc.integer({ min: 0, max: 100 }),
  remove: fc.boolean(),
});

test('batches are fair across namespaces and keep each namespace in due order', async () => {
  await check(
    FILE,
    fc.property(
      fc.array(entry, { maxLength: 300 }),
      fc.integer({ min: 0, max: 120 }),
      fc.integer({ min: 1, max: 50 }),
      (entries, now, limit) => {
        const queue = new DueQueue();
        const model = new Map<string, { group: string; due: number }>();
        for (const { group, name, due, remove } of entries) {
          // A key belongs to one group at a time; a move to another group is allowed.
          const key = `${group}/${name % 20}`;
          if (remove) {
            queue.delete(key);
            model.delete(key);
          } else {
            queue.set(key, due, group);
            model.set(key, { group, due });
          }
        }
        assert.equal(queue.size, model.size);
        const dueKeys = [...model].filter(([, v]) => v.due <= now);
        const batch = queue.popDue(now, limit);
        assert.equal(batch.length, Math.min(limit, dueKeys.length), 'as many as due, up to the limit');
        assert.equal(new Set(batch).size, batch.length, 'each key once');
        for (const key of batch) assert.ok((model.get(key)?.due ?? Infinity) <= now, `${key} not due`);
        // Fair share: a namespace with n keys due gets at least min(n, floor(limit / namespaces due)).
        const groupsDue = new Map<string, number>();
        for (const [, v] of dueKeys) groupsDue.set(v.group, (groupsDue.get(v.group) ?? 0) + 1);
        const share = Math.floor(limit / Math.max(1, groupsDue.size));
        for (const [group, n] of groupsDue) {
          const got = batch.filter((k) => model.get(k)!.group === group).length;
          assert.ok(got >= Math.min(n, share), `${group}: ${got} of ${n} due, share ${share}`);
        }
        // Within a namespace, earliest first: nothing left behind is due earlier than what was taken.
        const rest = queue.popDue(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
        assert.equal(batch.length + rest.length, model.size, 'everything comes out once');
        for (const group of groupsDue.keys()) {
          const taken = batch.filter((k) => model.get(k)!.group === group).map((k) => model.get(k)!.due);
          const left = rest.filter((k) => model.get(k)!.group === group).map((k) => model.get(k)!.due);
          if (taken.length > 0 && left.length > 0)
            assert.ok(Math.max(...taken) <= Math.min(...left), `${group} taken out of due order`);
        }
      },
    ),
    300,
  );
});
