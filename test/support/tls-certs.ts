// A private CA made for one test run, with a server certificate for 127.0.0.1/localhost (and any other
// addresses asked for) and client
// certificates; plus a second, unrelated CA to make certificates the servers must refuse.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by another CA: the server must refuse it. */
  rogueClientCert: string;
  rogueClientKey: string;
  /** The other CA: a client that trusts only it must refuse the server. */
  rogueCaCert: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  ]);
}

function makeSigned(dir: string, name: string, ca: string, subject: string, ext: string): void {
  openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  ]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

/** Writes the certificates into `dir` (which must exist); the server's is also valid for `serverIps`. */
export function makeTlsFiles(dir: string, serverIps: readonly string[] = []): TlsFiles {
  makeCa(dir, 'ca');
  makeCa(dir, 'rogue-ca');
  makeSigned(
    dir,
    'server',
    'ca',
    '/CN=localhost',
    `subjectAltName=${['IP:127.0.0.1', ...serverIps.map((ip) => `IP:${ip}`), 'DNS:localhost'].join(',')}\nextendedKeyUsage=serverAuth\n`,
  );
  makeSigned(dir, 'client', 'ca', '/CN=celerybeat-operator', 'extendedKeyUsage=clientAuth\n');
  makeSigned(dir, 'rogue-client', 'rogue-ca', '/CN=celerybeat-operator', 'extendedKeyUsage=clientAuth\n');
  const f = (name: string): string => join(dir, name);
  return {
    dir,
    caCert: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    rogueClientCert: f('rogue-client.crt'),
    rogueClientKey: f('rogue-client.key'),
    rogueCaCert: f('rogue-ca.crt'),
  };
}
