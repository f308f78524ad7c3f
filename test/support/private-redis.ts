// A private redis-server and a client on it, shared by the tests of one file: started before them, stopped
// after them.
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { type RedisServer, startRedisServer } from './redis-server.ts';

export interface PrivateRedis {
  readonly server: RedisServer;
  /** A client on database 0. */
  readonly redis: Redis;
  /** A client on the broker database given to usePrivateRedis (database 0 when none was). */
  readonly broker: Redis;
}

/** Registers the file's `before` and `after` hooks; the fields can be read from the `before` hook on. */
export function usePrivateRedis(brokerDb?: number): PrivateRedis {
  let started: PrivateRedis | undefined;
  before(async () => {
    const server = await startRedisServer();
    const redis = new Redis(server.url);
    started = {
      server,
      redis,
      broker: brokerDb === undefined ? redis : new Redis(`${server.url}/${brokerDb}`),
    };
  });
  after(async () => {
    started?.redis.disconnect();
    started?.broker.disconnect();
    await started?.server.stop();
  });
  const running = (): PrivateRedis => {
    if (!started) throw new Error('the private Redis is read before the before hook started it');
    return started;
  };
  return {
    get server() {
      return running().server;
    },
    get redis() {
      return running().redis;
    },
    get broker() {
      return running().broker;
    },
  };
}
