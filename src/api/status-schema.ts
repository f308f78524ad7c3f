// The PeriodicTask status, written by the operator only (part of the schema tree, see periodic-task-schema.ts).
import type { ArrayNode, ObjectNode } from './schema-types.ts';

const condition: ObjectNode = {
  kind: 'object',
  description: 'A standard Kubernetes condition.',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { kind: 'string', description: 'Condition type, such as Ready.', maxLength: 316 },
    status: {
      kind: 'string',
      description: 'True, False or Unknown.',
      enum: ['True', 'False', 'Unknown'],
      maxLength: 7,
    },
    reason: {
      kind: 'string',
      description: 'CamelCase reason, such as Scheduled or InvalidSpec.',
      maxLength: 1024,
    },
    message: { kind: 'string', description: 'Human-readable details.', maxLength: 32768 },
    lastTransitionTime: {
      kind: 'string',
      description: 'When the status last changed (RFC 3339).',
      maxLength: 64,
    },
    observedGeneration: {
      kind: 'integer',
      format: 'int64',
      minimum: 0,
      description: 'The generation this condition describes.',
    },
  },
};

const conditions: ArrayNode = {
  kind: 'array',
  description: 'Ready: True/Scheduled, or False with InvalidSpec, Disabled, Completed or StoreUnavailable.',
  items: condition,
  maxItems: 16,
  mapKey: 'type',
};

export const statusSchema: ObjectNode = {
  kind: 'object',
  description: 'Written by the operator only.',
  properties: {
    schedule: {
      kind: 'string',
      description: 'The schedule in words (shown by kubectl get); "invalid" while the spec is invalid.',
      maxLength: 1024,
    },
    lastRunAt: { kind: 'string', description: 'The slot of the last run (RFC 3339, UTC).', maxLength: 64 },
    totalRunCount: {
      kind: 'integer',
      format: 'int64',
      minimum: 0,
      description: 'How many runs were published.',
    },
    lastTaskId: { kind: 'string', description: 'Celery task id of the last run.', maxLength: 255 },
    nextRunAt: { kind: 'string', description: 'The next slot (RFC 3339, UTC).', maxLength: 64 },
    missedRunCount: {
      kind: 'integer',
      format: 'int64',
      minimum: 0,
      description: 'Slots skipped (operator or broker down, deadline passed).',
    },
    observedGeneration: {
      kind: 'integer',
      format: 'int64',
      minimum: 0,
      description: 'The spec generation the status describes.',
    },
    conditions,
  },
};
