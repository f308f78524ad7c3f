// A new leader dispatches from the keys before its source has read the resources: the definition it reads
// back from a key must be exactly the one the reconciler wrote there, for every valid spec.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { readStoredDefinition } from '../../src/store/stored-definition.ts';
import { encodeDefinitionHead, encodeRunStateTail } from '../../src/store/task-record.ts';
import { validatePeriodicTask } from '../../src/validation/validate.ts';
import { check } from './fc-config.ts';
import { timeZone, validSpec } from './spec-arbitrary.ts';

const FILE = 'test/property/stored-definition.test.ts';
const STATE = {
  cursor: 0,
  totalRunCount: 0,
  lastTaskId: null,
  lastTaskSlot: null,
  missedRunCount: 0,
  pausedRunCount: 0,
};

test('every valid definition reads back from its key exactly as it was written', async () => {
  const annotations = fc.option(
    fc.record({ 'celerybeat.io/original-name': fc.string({ minLength: 1, maxLength: 20 }) }),
    { nil: undefined },
  );
  await check(
    FILE,
    fc.property(
      validSpec(),
      timeZone,
      fc.integer({ min: 1, max: 2 ** 40 }),
      annotations,
      (spec, zone, generation, notes) => {
        const result = validatePeriodicTask(
          {
            apiVersion: 'celerybeat.io/v1alpha1',
            kind: 'PeriodicTask',
            metadata: {
              name: 'task-a',
              namespace: 'team-b',
              uid: '0f8fad5b-d9cb-469f-a165-70867728950e',
              generation,
              ...(notes ? { annotations: notes } : {}),
            },
            spec,
          },
          { defaultTimeZone: zone, resultBackend: true },
        );
        if (!result.ok)
          throw new Error(`a generated valid spec is refused: ${JSON.stringify(result.errors)}`);
        const { carriedOver: _usedOnlyForANewKey, ...def } = result.definition;
        const head = encodeDefinitionHead(result.definition, 'op-1');
        const read = readStoredDefinition(JSON.parse(head + encodeRunStateTail(STATE)));
        if (!read.ok) throw new Error(`not read back: ${read.reason}`);
        // Generated JSON values may have a null prototype: the key holds plain JSON.
        assert.deepEqual(read.def, JSON.parse(JSON.stringify(def)));
        assert.equal(encodeDefinitionHead(read.def, 'op-1'), head);
      },
    ),
    300,
  );
});
