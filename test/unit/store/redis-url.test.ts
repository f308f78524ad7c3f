// The store's Redis URLs: one server, Sentinels, cluster seeds, TLS files; errors never show the password.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Cluster, type Redis } from 'ioredis';
import { connectRedis } from '../../../src/store/redis-connection.ts';
import { parseRedisUrl } from '../../../src/store/redis-url.ts';

test('a Sentinel URL names the Sentinels, the master and the database; ports default to 26379', () => {
  assert.deepEqual(
    parseRedisUrl('redis+sentinel://:pw@s1:26380,s2,[::1]:7/mymaster/3?sentinel_password=sp'),
    {
      topology: 'sentinel',
      hosts: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
        { host: '::1', port: 7 },
      ],
      masterName: 'mymaster',
      db: 3,
      password: 'pw',
      sentinelPassword: 'sp',
    },
  );
  assert.equal(parseRedisUrl('rediss+sentinel://s1/m').tls?.verify, true);
});

test("one server, cluster seeds, and TLS files in Celery's option names", () => {
  assert.deepEqual(parseRedisUrl('redis://user:p%40ss@h/2'), {
    topology: 'standalone',
    hosts: [{ host: 'h', port: 6379 }],
    db: 2,
    username: 'user',
    password: 'p@ss',
  });
  const cluster = parseRedisUrl('redis://n1:7000,n2:7001', { cluster: true });
  assert.equal(cluster.topology, 'cluster');
  assert.equal(cluster.hosts.length, 2);
  assert.deepEqual(
    parseRedisUrl('rediss://h:6380/0?ssl_ca_certs=/ca.crt&ssl_certfile=/c.crt&ssl_keyfile=/c.key').tls,
    { verify: true, caFile: '/ca.crt', certFile: '/c.crt', keyFile: '/c.key' },
  );
  assert.equal(parseRedisUrl('rediss://h?ssl_cert_reqs=CERT_NONE').tls?.verify, false);
});

test('mistakes are named, and the password never appears in the error', () => {
  const cases: Array<[string, RegExp, { cluster?: boolean }?]> = [
    ['redis://:s3cret@a:1,b:2/0', /several hosts need/],
    ['redis+sentinel://:s3cret@s1', /needs the master name/],
    ['redis://:s3cret@h/0?ssl_ca_certs=/x', /ssl_ca_certs needs a TLS URL/],
    ['rediss://:s3cret@h/0?ssl_certfile=/x', /ssl_certfile and ssl_keyfile go together/],
    ['redis://:s3cret@h/0?tls=1', /unknown option "tls"/],
    ['redis://:s3cret@h:99999', /bad port/],
    ['redis://:s3cret@h/1', /only database 0/, { cluster: true }],
    ['redis+sentinel://:s3cret@s/m', /cannot name a Redis Cluster/, { cluster: true }],
  ];
  for (const [url, message, opts] of cases) {
    assert.throws(
      () => parseRedisUrl(url, opts),
      (error: unknown) =>
        error instanceof Error && message.test(error.message) && !error.message.includes('s3cret'),
      url,
    );
  }
});

test('a command whose connection dropped is never sent again, on one server or on a Cluster', () => {
  const lazy = { lazyConnect: true };
  const cluster = connectRedis(parseRedisUrl('redis://127.0.0.1:1,127.0.0.1:2', { cluster: true }), lazy);
  try {
    assert.ok(cluster instanceof Cluster);
    // The Cluster client resends a command on a dropped connection after retryDelayOnFailover when it is > 0.
    assert.equal(cluster.options.retryDelayOnFailover, 0);
    assert.equal(cluster.options.redisOptions?.autoResendUnfulfilledCommands, false);
  } finally {
    cluster.disconnect();
  }
  const single = connectRedis(parseRedisUrl('redis://127.0.0.1:1/0'), lazy);
  try {
    assert.equal((single as Redis).options.autoResendUnfulfilledCommands, false);
  } finally {
    single.disconnect();
  }
});
