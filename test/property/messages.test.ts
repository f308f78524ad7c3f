// What the validator accepts must be sendable: a spec it passes builds a message the last safety check
// (checkTaskMessage, inside buildTaskMessage) accepts, whatever the free-form JSON holds — including the
// edges a file can carry and the generators of the other properties avoid: empty or very long header names,
// lone UTF-16 surrogates, nesting deeper than the check's limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildTaskMessage } from '../../src/celery/message.ts';
import { taskIdForSlot } from '../../src/celery/task-id.ts';
import { validatePeriodicTask } from '../../src/validation/validate.ts';
import { check } from './fc-config.ts';
import { type Json, REFERENCE_MS, type Spec, validSpec } from './spec-arbitrary.ts';

const FILE = 'test/property/messages.test.ts';

function deep(depth: number): Json {
  let v: Json = 'leaf';
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

type Edge = { where: 'args' | 'kwargs' | 'headers'; key: string; value: Json };

const edge: fc.Arbitrary<Edge> = fc.oneof(
  fc.constant<Edge>({ where: 'headers', key: '', value: 1 }),
  fc.constantFrom('h'.repeat(256), '中'.repeat(86)).map((key): Edge => ({ where: 'headers', key, value: 1 })),
  fc
    .constantFrom<'args' | 'kwargs' | 'headers'>('args', 'kwargs', 'headers')
    .map((where): Edge => ({ where, key: 'k', value: 'a\ud800b' })),
  fc.integer({ min: 101, max: 140 }).map((n): Edge => ({ where: 'args', key: 'k', value: deep(n) })),
);

function inject(spec: Spec, e: Edge): Spec {
  const out = structuredClone(spec);
  if (e.where === 'args') out.args = [...((out.args as Json[] | null) ?? []), e.value];
  else if (e.where === 'kwargs')
    out.kwargs = { ...((out.kwargs as Record<string, Json> | null) ?? {}), [e.key]: e.value };
  else {
    const options = (out.options as Record<string, unknown> | null) ?? {};
    out.options = {
      ...options,
      headers: { ...((options.headers as Record<string, Json> | null) ?? {}), [e.key]: e.value },
    };
  }
  return out;
}

test(`every spec the validator accepts builds a message the safety check accepts (${FILE})`, async () => {
  await check(
    FILE,
    fc.property(validSpec({ clocked: 'safe' }), edge, (spec, e) => {
      const withEdge = inject(spec, e);
      const result = validatePeriodicTask(
        {
          apiVersion: 'celerybeat.io/v1alpha1',
          kind: 'PeriodicTask',
          metadata: { name: 'm', namespace: 'prop' },
          spec: withEdge,
        },
        { defaultTimeZone: 'UTC' },
      );
      if (!result.ok) return;
      const def = result.definition;
      assert.doesNotThrow(() =>
        buildTaskMessage({
          task: def.task,
          id: taskIdForSlot('prop/m', def.uid, REFERENCE_MS),
          args: def.args,
          kwargs: def.kwargs,
          // No expiry: an expired run is a different, legitimate refusal.
          options: { ...def.options, expires: undefined },
          scheduledAt: REFERENCE_MS,
          periodicTaskName: 'prop/m',
          namespace: 'prop',
          now: REFERENCE_MS,
        }),
      );
    }),
    100,
  );
});
