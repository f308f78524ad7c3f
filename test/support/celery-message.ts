// Builds a Celery protocol-v2 message as kombu's Redis transport stores it (the shape of the captured
// vectors), so a test can LPUSH a task for a worker without going through the operator's own code.
import { randomUUID } from 'node:crypto';

export interface RawTask {
  task: string;
  id?: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /** Extra or overriding headers, e.g. timelimit, expires, eta, periodic_task_name. */
  headers?: Record<string, unknown>;
  queue?: string;
  priority?: number;
}

export function redisTaskMessage(spec: RawTask): string {
  const id = spec.id ?? randomUUID();
  const args = spec.args ?? [];
  const kwargs = spec.kwargs ?? {};
  const body = [args, kwargs, { callbacks: null, errbacks: null, chain: null, chord: null }];
  return JSON.stringify({
    body: Buffer.from(JSON.stringify(body)).toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers: {
      lang: 'py',
      task: spec.task,
      id,
      shadow: null,
      eta: null,
      expires: null,
      group: null,
      group_index: null,
      retries: 0,
      timelimit: [null, null],
      root_id: id,
      parent_id: null,
      argsrepr: JSON.stringify(args),
      kwargsrepr: JSON.stringify(kwargs),
      origin: `test@${process.pid}`,
      ignore_result: false,
      ...spec.headers,
    },
    properties: {
      correlation_id: id,
      reply_to: randomUUID(),
      delivery_mode: 2,
      delivery_info: { exchange: '', routing_key: spec.queue ?? 'celery' },
      priority: spec.priority ?? 0,
      body_encoding: 'base64',
      delivery_tag: randomUUID(),
    },
  });
}
