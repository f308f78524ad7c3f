// The PeriodicTaskPolicy schema: the single source of its CRD's OpenAPI schema and of the reader of policy
// documents in standalone mode (src/policy/read-policy.ts).
import type { ArrayNode, IntegerNode, ObjectNode } from './schema-types.ts';

/** Names and patterns: a queue or Redis key name is at most a few hundred bytes in practice. */
const NAME_LENGTH = 1024;
const PATTERNS = 256;

function patterns(description: string): ArrayNode {
  return {
    kind: 'array',
    description: `${description} Each entry is a pattern in which * stands for any run of characters (dots included); an empty list allows none.`,
    maxItems: PATTERNS,
    items: {
      kind: 'string',
      description: 'A name, or a pattern with *.',
      minLength: 1,
      maxLength: NAME_LENGTH,
    },
  };
}

function count(description: string, minimum: number, maximum: number): IntegerNode {
  return { kind: 'integer', format: 'int64', minimum, maximum, description };
}

const selectorSchema: ObjectNode = {
  kind: 'object',
  description:
    'The namespaces whose PeriodicTasks this policy governs, by their labels (every namespace carries kubernetes.io/metadata.name); an empty selector selects every namespace.',
  properties: {
    matchLabels: { kind: 'freeObject', description: 'Label values the namespace must have (strings).' },
    matchExpressions: {
      kind: 'array',
      description: 'Requirements on labels, all of which must hold.',
      maxItems: 64,
      items: {
        kind: 'object',
        description: 'One requirement.',
        required: ['key', 'operator'],
        properties: {
          key: { kind: 'string', description: 'The label key.', minLength: 1, maxLength: 317 },
          operator: {
            kind: 'string',
            enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'],
            description: 'In, NotIn, Exists or DoesNotExist.',
            maxLength: 16,
          },
          values: {
            kind: 'array',
            description: 'The values for In and NotIn.',
            maxItems: 256,
            items: { kind: 'string', description: 'A label value.', maxLength: 63 },
          },
        },
        rules: [
          {
            rule: "(self.operator == 'In' || self.operator == 'NotIn') == (has(self.values) && size(self.values) > 0)",
            message: 'values must be given for In and NotIn, and only for them',
            holds: (self) =>
              (self.operator === 'In' || self.operator === 'NotIn') ===
              (Array.isArray(self.values) && self.values.length > 0),
          },
        ],
      },
    },
  },
};

/** A Secret's name (a DNS subdomain) and one of its keys, as Kubernetes accepts them. */
const SECRET_NAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const SECRET_KEY = '^[-._a-zA-Z0-9]+$';

/** A CEL single-quoted string literal holding `pattern` (backslashes doubled). */
const celString = (pattern: string): string => `'${pattern.replaceAll('\\', '\\\\')}'`;

const brokerSchema: ObjectNode = {
  kind: 'object',
  description:
    "The Celery broker the runs of the selected namespaces go to, instead of the operator's own: a URL (redis://, rediss://, redis+sentinel://, amqp://, amqps://) held in a Secret in the operator's namespace. Applies in Enforce and Warn mode; policies selecting one namespace must not name different brokers.",
  required: ['secretKeyRef'],
  properties: {
    secretKeyRef: {
      kind: 'object',
      description:
        "The Secret's key holding the broker URL. The Secret is read from the operator's own namespace only (in standalone mode: the file <name>/<key> under --secrets-dir).",
      required: ['name', 'key'],
      properties: {
        name: {
          kind: 'string',
          description: 'The Secret, in the operator namespace.',
          minLength: 1,
          maxLength: 253,
          rules: [
            {
              rule: `self.matches(${celString(SECRET_NAME)})`,
              message: 'must be a Secret name (lower-case letters, digits, - and .)',
              holds: (self) => new RegExp(SECRET_NAME).test(self),
            },
          ],
        },
        key: {
          kind: 'string',
          description: 'The key of the Secret whose value is the URL.',
          minLength: 1,
          maxLength: 253,
          rules: [
            {
              rule: `self.matches(${celString(SECRET_KEY)}) && self != '.' && self != '..'`,
              message: 'must be a Secret key (letters, digits, -, _ and .)',
              holds: (self) => new RegExp(SECRET_KEY).test(self) && self !== '.' && self !== '..',
            },
          ],
        },
      },
    },
  },
};

export const policySpecSchema: ObjectNode = {
  kind: 'object',
  description: 'What the PeriodicTasks of the selected namespaces may do. An absent rule is no limit.',
  required: ['namespaceSelector'],
  properties: {
    namespaceSelector: selectorSchema,
    mode: {
      kind: 'string',
      enum: ['Enforce', 'Warn'],
      default: 'Enforce',
      description:
        'Enforce: a violating task is not scheduled (Ready False/PolicyViolation). Warn: it runs, and each violation is a Warning Event (for migrating to a policy).',
      maxLength: 8,
    },
    allowedTaskNames: patterns('Celery task names the tasks may send.'),
    deniedTaskNames: patterns('Celery task names the tasks may not send, even when allowed above.'),
    allowedQueues: patterns('Queues the tasks may name (spec.options.queue, default celery).'),
    allowedExchanges: patterns('Exchanges the tasks may name, when they name one.'),
    allowedRoutingKeys: patterns('Routing keys the tasks may name, when they name one.'),
    maxPriority: count('The highest spec.options.priority.', 0, 255),
    allowedHeaders: patterns('Names of the headers the tasks may set in spec.options.headers.'),
    maxArgsBytes: count('The largest spec.args, in bytes of its JSON text.', 0, 100_000_000),
    maxKwargsBytes: count('The largest spec.kwargs, in bytes of its JSON text.', 0, 100_000_000),
    maxHeadersBytes: count('The largest spec.options.headers, in bytes of its JSON text.', 0, 100_000_000),
    maxJsonDepth: count(
      'The deepest nesting of lists and objects in args, kwargs and headers (each counts as one level).',
      1,
      100,
    ),
    minIntervalSeconds: count(
      'The shortest time between two runs: an interval or a cron @every, and the smallest gap of a crontab or cron in wall-clock time.',
      0,
      31_536_000,
    ),
    allowRunNow: {
      kind: 'boolean',
      description: 'false: a pending celerybeat.io/run-now request is a violation.',
    },
    maxBackfillSlots: count('The most slots one celerybeat.io/backfill range may hold.', 0, 1000),
    maxRunsPerSecond: count(
      "The most scheduled runs the namespace's tasks send in a second, together (a burst of one second's worth); runs beyond wait their turn, and one that waits past its startingDeadlineSeconds is missed. Enforce mode only.",
      1,
      1_000_000,
    ),
    allowReplace: {
      kind: 'boolean',
      description: 'false: concurrencyPolicy Replace (which terminates running tasks) is a violation.',
    },
    broker: brokerSchema,
  },
};

export const periodicTaskPolicySchema: ObjectNode = {
  kind: 'object',
  description:
    'Cluster-scoped limits on what PeriodicTasks in the selected namespaces may publish; several policies selecting one namespace all apply.',
  required: ['spec'],
  properties: { spec: policySpecSchema },
};
