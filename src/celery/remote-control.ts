// Celery's remote control, for the one command the operator sends: `revoke` with terminate, broadcast to every
// worker through the `celery.pidbox` fanout exchange (what `app.control.revoke(ids, terminate=True)` sends,
// captured on Celery 5.2.6). A worker that has the task running kills it; every worker remembers the id, so
// a copy still queued is dropped when it arrives.
import { randomUUID } from 'node:crypto';

export const PIDBOX_EXCHANGE = 'celery.pidbox';

/** How long workers accept the command: a late broadcast must not revoke anything unexpected. */
const COMMAND_TTL_S = 10;

export interface ControlCommand {
  /** The JSON body. */
  body: string;
  headers: { clock: number; expires: number };
}

export function revokeCommand(taskIds: readonly string[], now: number = Date.now()): ControlCommand {
  return {
    body: JSON.stringify({
      method: 'revoke',
      arguments: { task_id: [...taskIds], terminate: true, signal: 'SIGTERM' },
      destination: null,
      pattern: null,
      matcher: null,
    }),
    headers: { clock: 1, expires: now / 1000 + COMMAND_TTL_S },
  };
}

/** kombu's Redis fanout: PUBLISH on `/<db>.celery.pidbox` of an envelope like a queued message's. */
export function redisControlPublish(
  command: ControlCommand,
  db: number,
): { channel: string; envelope: string } {
  return {
    channel: `/${db}.${PIDBOX_EXCHANGE}`,
    envelope: JSON.stringify({
      body: Buffer.from(command.body, 'utf8').toString('base64'),
      'content-encoding': 'utf-8',
      'content-type': 'application/json',
      headers: command.headers,
      properties: {
        delivery_mode: 2,
        delivery_info: { exchange: PIDBOX_EXCHANGE, routing_key: '' },
        priority: 0,
        body_encoding: 'base64',
        delivery_tag: randomUUID(),
      },
    }),
  };
}
