// The machine's RabbitMQ (started by .ci/run if needed). Tests never share queues: each uses names from
// uniqueQueueName() and deletes them when done; a test that needs a virtual host makes one of its own.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { connect } from 'amqplib';

const run = promisify(execFile);

export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** `<prefix>.<pid>.<random>`: unique across parallel test processes and runs. */
export function uniqueQueueName(prefix: string): string {
  return `${prefix}.${process.pid}.${randomBytes(4).toString('hex')}`;
}

/** Deletes the queues, and the direct exchange of the same name Celery declares for each (missing ones are fine). */
export async function deleteQueues(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const conn = await connect(RABBITMQ_URL);
  try {
    for (const name of names) {
      // A channel is closed by the broker on an error, so use one per queue.
      const channel = await conn.createChannel();
      try {
        await channel.deleteQueue(name);
        await channel.deleteExchange(name);
      } catch (err) {
        throw new Error(`deleting RabbitMQ queue ${name}: ${(err as Error).message}`);
      } finally {
        await channel.close().catch(() => undefined);
      }
    }
  } finally {
    await conn.close();
  }
}

/** A virtual host of its own on the machine's RabbitMQ, open to the test user; `remove` deletes it and all in it. */
export async function createVhost(
  prefix: string,
): Promise<{ name: string; url: string; remove: () => Promise<void> }> {
  const name = uniqueQueueName(prefix);
  const ctl = (args: string[]) => run('rabbitmqctl', args, { timeout: 60_000 });
  await ctl(['add_vhost', name]);
  const user = decodeURIComponent(new URL(RABBITMQ_URL).username);
  await ctl(['set_permissions', '-p', name, user, '.*', '.*', '.*']);
  const url = new URL(RABBITMQ_URL);
  url.pathname = `/${encodeURIComponent(name)}`;
  return { name, url: url.toString(), remove: async () => void (await ctl(['delete_vhost', name])) };
}
