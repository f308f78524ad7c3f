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

const RESULT_STATES = ['PENDING', 'RECEIVED', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'];

const resultState = {
  kind: 'string' as const,
  description:
    "The run's Celery state from the result backend; PENDING also means unknown (not picked up yet, or no result stored).",
  enum: RESULT_STATES,
  maxLength: 16,
};

const lastResult: ObjectNode = {
  kind: 'object',
  description: 'What the result backend says of the last run that has a result (--result-backend).',
  required: ['taskId', 'state'],
  properties: {
    taskId: { kind: 'string', description: 'Celery task id of the run.', maxLength: 255 },
    state: resultState,
    finishedAt: { kind: 'string', description: 'date_done of the result (RFC 3339).', maxLength: 64 },
    error: {
      kind: 'string',
      description: 'The last line of the traceback of a failed or retried run (never the result value).',
      maxLength: 512,
    },
  },
};

const recentRun: ObjectNode = {
  kind: 'object',
  description: 'One recent run.',
  required: ['slot', 'taskId', 'state'],
  properties: {
    slot: { kind: 'string', description: 'The slot the run was sent for (RFC 3339).', maxLength: 64 },
    taskId: { kind: 'string', description: 'Celery task id.', maxLength: 255 },
    state: resultState,
    durationSeconds: {
      kind: 'number',
      description: 'From publish to date_done (queue time included); absent while unfinished.',
    },
  },
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
    unknownRunCount: {
      kind: 'integer',
      format: 'int64',
      minimum: 0,
      description:
        'Runs (scheduled, run-now or backfill) sent whose outcome is unknown (no broker confirm, a lost reply, a crash between claim and publish): not counted as runs, never sent again.',
    },
    lastSuccessfulRunAt: {
      kind: 'string',
      description: 'Slot of the last run whose result is SUCCESS (--result-backend).',
      maxLength: 64,
    },
    lastFailedRunAt: {
      kind: 'string',
      description: 'Slot of the last run whose result is FAILURE (--result-backend).',
      maxLength: 64,
    },
    lastResult,
    recentRuns: {
      kind: 'array',
      description: 'The last 10 runs, newest first (--result-backend).',
      items: recentRun,
      maxItems: 10,
    },
    lastRunNow: {
      kind: 'string',
      description: 'The last celerybeat.io/run-now value handled (its run was sent, or had been already).',
      maxLength: 1024,
    },
    backfill: {
      kind: 'object',
      description: 'The last celerybeat.io/backfill range handled and its progress.',
      required: ['range', 'slots', 'sent', 'alreadyRun', 'state'],
      properties: {
        range: { kind: 'string', description: 'The annotation value.', maxLength: 1024 },
        slots: {
          kind: 'integer',
          format: 'int64',
          minimum: 0,
          description: 'Slots of the schedule in the range.',
        },
        sent: { kind: 'integer', format: 'int64', minimum: 0, description: 'Slots the backfill sent.' },
        alreadyRun: {
          kind: 'integer',
          format: 'int64',
          minimum: 0,
          description: 'Slots that had run already.',
        },
        unknown: {
          kind: 'integer',
          format: 'int64',
          minimum: 0,
          description: 'Slots sent whose outcome is unknown (no confirm): not sent again.',
        },
        state: {
          kind: 'string',
          enum: ['Running', 'Done', 'TooLarge', 'Invalid'],
          description: 'Running, Done, TooLarge (more slots than --max-backfill: nothing sent) or Invalid.',
          maxLength: 16,
        },
        message: { kind: 'string', description: 'Details, for TooLarge and Invalid.', maxLength: 1024 },
      },
    },
    pausedRunCount: {
      kind: 'integer',
      format: 'int64',
      minimum: 0,
      description: 'Slots that fell inside a pause (spec.pause); not counted as missed.',
    },
    consecutiveFailures: {
      kind: 'integer',
      format: 'int64',
      minimum: 0,
      description:
        'FAILURE results in a row of the newest runs, counted for spec.pauseAfterFailures (absent while none).',
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
