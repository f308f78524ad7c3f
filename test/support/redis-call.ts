// One command to a test Redis on a loopback port, on a connection of its own that never retries: for the
// tests' own look at Sentinels and cluster nodes (ROLE, CLUSTER KEYSLOT, SENTINEL …), which may be down.
import { Redis } from 'ioredis';

export async function redisCall(port: number, ...args: string[]): Promise<unknown> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(args[0]!, ...args.slice(1));
  } finally {
    client.disconnect();
  }
}
