// A TLS-only RabbitMQ node of its own (rabbitmq-node.ts). It requires a client certificate from the run's private
// CA.
import { chmodSync, readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { startRabbitMqNode } from './rabbitmq-node.ts';
import { makeTlsFiles, type TlsFiles } from './tls-certs.ts';

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
  const user = 'celery-tls';
  const password = `tls-pw-${process.pid}-${Date.now().toString(36)}`;
  let tls: TlsFiles | undefined;
  const node = await startRabbitMqNode({
    label: 'tls',
    config(dir, port) {
      tls = makeTlsFiles(dir);
      for (const file of [tls.serverKey, tls.clientKey]) chmodSync(file, 0o644);
      return [
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
      ];
    },
    accepts: (n) => handshakes(n.port, tls!),
  });
  const files = tls!;
  return {
    port: node.port,
    user,
    password,
    tls: files,
    url: (query) => `amqps://${user}:${password}@127.0.0.1:${node.port}/${query ? `?${query}` : ''}`,
    stop: () => node.stop(),
  };
}
