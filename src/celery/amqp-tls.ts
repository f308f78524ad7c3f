// TLS settings of an amqps:// URL, in RabbitMQ's URI query parameters (the Erlang client's names), so a
// private CA and a client certificate need no flags: mount them as files and name them in the URL.
//   amqps://user:pass@host:5671/vhost?cacertfile=/tls/ca.crt&certfile=/tls/tls.crt&keyfile=/tls/tls.key
//   verify=verify_peer (default) | verify_none;  server_name_indication=<name> | disable
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

const TLS_PARAMS = ['cacertfile', 'certfile', 'keyfile', 'verify', 'server_name_indication'] as const;

export interface AmqpConnectArgs {
  /** The URL without the TLS parameters (amqplib reads the others: heartbeat, frameMax…). */
  url: string;
  tls: ConnectionOptions;
}

function readFile(param: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`amqps:// ${param}: cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Splits the TLS parameters off an AMQP URL and reads the files they name; `base` adds to them. */
export function amqpConnectArgs(url: string, base: ConnectionOptions = {}): AmqpConnectArgs {
  const q = url.indexOf('?');
  if (q < 0) return { url, tls: { ...base } };
  const params = new URLSearchParams(url.slice(q + 1));
  const tls: ConnectionOptions = { ...base };
  const present = TLS_PARAMS.filter((p) => params.has(p));
  if (present.length > 0 && !/^amqps:/i.test(url)) {
    throw new Error(`${present.join(', ')} need an amqps:// URL`);
  }
  const file = (param: string): Buffer | undefined => {
    const path = params.get(param);
    return path ? readFile(param, path) : undefined;
  };
  const ca = file('cacertfile');
  const cert = file('certfile');
  const key = file('keyfile');
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error('amqps:// certfile and keyfile go together (a client certificate and its key)');
  }
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  const verify = params.get('verify');
  if (verify !== null) {
    if (verify !== 'verify_peer' && verify !== 'verify_none') {
      throw new Error(`amqps:// verify must be verify_peer or verify_none, got "${verify}"`);
    }
    tls.rejectUnauthorized = verify === 'verify_peer';
  }
  const sni = params.get('server_name_indication');
  if (sni !== null && sni !== 'disable') tls.servername = sni;
  for (const p of TLS_PARAMS) params.delete(p);
  const rest = params.toString();
  return { url: url.slice(0, q) + (rest ? `?${rest}` : ''), tls };
}
