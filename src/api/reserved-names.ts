// Queue, exchange and routing-key names a task may not use: on a shared Redis or RabbitMQ they would address
// what belongs to kombu, to Celery's workers or to the operator, not to the task. Written for both RE2 (CEL in
// the API server) and ECMAScript. What depends on the operator's configuration (its key prefix) and what only
// Redis can tell (a key of another type) is checked by the operator, not here.
import type { Rule } from './schema-types.ts';

interface ReservedName {
  pattern: string;
  message: string;
}

/**
 * kombu's Redis transport keeps its bindings in `_kombu.binding.<exchange>` sets and its unacked messages in
 * `unacked`, `unacked_index` and `unacked_mutex`; `\x06\x16` separates a queue from its priority bucket.
 * Celery's remote control uses the `celery.pidbox` and `reply.celery.pidbox` exchanges and `<worker>.celery.pidbox`
 * queues; its events the `celeryev` exchange and `celeryev.<id>` queues.
 */
export const RESERVED_NAMES: readonly ReservedName[] = [
  {
    pattern: '^_kombu[.]|^unacked(_index|_mutex)?$|\\x06\\x16',
    message:
      "must not name kombu's own Redis keys (_kombu.*, unacked, unacked_index, unacked_mutex) or contain its separator \\x06\\x16",
  },
  {
    pattern: '[.]pidbox$|^celeryev([.]|$)',
    message:
      "must not name Celery's remote-control (*.pidbox) or event (celeryev, celeryev.*) exchanges and queues",
  },
  {
    pattern: '^celerybeat-operator:',
    message: "must not start with celerybeat-operator: (the operator's own keys)",
  },
];

/** The reserved-name rules of a queue, exchange or routing-key field, as CEL and as their TypeScript twins. */
export function reservedNameRules(): Rule<string>[] {
  return RESERVED_NAMES.map(({ pattern, message }) => {
    const re = new RegExp(pattern);
    return {
      rule: `!self.matches('${pattern.replaceAll('\\', '\\\\')}')`,
      message,
      holds: (s: string) => !re.test(s),
    };
  });
}
