// A TLS-only RabbitMQ node of its own (own node name, ports, config, data and cookie), beside the machine's
// RabbitMQ on 5672, which keeps running for the other tests. It requires a client certificate from the
// run's private CA.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { freePort, waitUntil } from './ports.ts';
import { type ManagedProcess, startProcess, tail } from './process.ts';
import { makeTlsFiles, type TlsFiles } from './tls-certs.ts';

const RABBITMQ_SERVER = process.env.RABBITMQ_SERVER_BIN ?? '/usr/lib/rabbitmq/bin/rabbitmq-server';

export interface TlsRabbitMq {
  port: number;
  user: string;
  password: string;
  tls: TlsFiles;
  /** amqps://user:password@127.0.0.1:port/ with the given query (TLS files). */
  url(query: string): string;
  stop(): Promise<void>;
}

/** Resolves once a TLS handshake with a valid client certificate succeeds on the port. */
function handshakes(port: number, tls: TlsFiles): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca: [readFileSync(tls.caCert)],
      cert: readFileSync(tls.clientCert),
      key: readFileSync(tls.clientKey),
    });
    socket.setTimeout(2000);
    socket.once('secureConnect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export async function startTlsRabbitMq(): Promise<TlsRabbitMq> {
  const dir = await mkdtemp(join(tmpdir(), 'celerybeat-rabbitmq-tls-'));
  // The node may run as another user than the tests (the service account): it must read its own files.
  chmodSync(dir, 0o755);
  const tls = makeTlsFiles(dir);
  for (const file of [tls.serverKey, tls.clientKey]) chmodSync(file, 0o644);
  const [port, distPort] = [await freePort(), await freePort()];
  const user = 'celery-tls';
  const password = `tls-pw-${process.pid}-${Date.now().toString(36)}`;
  const nodeName = `celerybeat-tls-${process.pid}@localhost`;
  mkdirSync(join(dir, 'mnesia'));
  mkdirSync(join(dir, 'log'));
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      'listeners.tcp = none',
      `listeners.ssl.default = 127.0.0.1:${port}`,
      `ssl_options.cacertfile = ${tls.caCert}`,
      `ssl_options.certfile = ${tls.serverCert}`,
      `ssl_options.keyfile = ${tls.serverKey}`,
      'ssl_options.verify = verify_peer',
      'ssl_options.fail_if_no_peer_cert = true',
      `default_user = ${user}`,
      `default_pass = ${password}`,
      'default_vhost = /',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
  const proc: ManagedProcess = startProcess('rabbitmq-server (TLS)', RABBITMQ_SERVER, [], {
    cwd: dir,
    env: {
      ...process.env,
      HOME: dir,
      RABBITMQ_NODENAME: nodeName,
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_LOGS: '-',
      RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      ERL_FLAGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    },
  });
  try {
    await waitUntil(
      `TLS RabbitMQ on port ${port}`,
      async () => {
        if (proc.hasExited()) throw new Error(`rabbitmq-server exited:\n${tail(proc.output())}`);
        return proc.output().includes('Server startup complete') && (await handshakes(port, tls));
      },
      120_000,
      250,
    );
  } catch (error) {
    await proc.stop(10_000);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    user,
    password,
    tls,
    url: (query) => `amqps://${user}:${password}@127.0.0.1:${port}/${query ? `?${query}` : ''}`,
    async stop() {
      await proc.stop(15_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
