// Throw-away certificates for the test control plane, made with openssl: one CA that signs the API
// server's serving certificate and the client certificates (CN = user, one O per group), and an EC key
// pair that signs ServiceAccount tokens. All keys are ECDSA P-256, valid for 7 days.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const DAYS = '7';

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(
      `openssl ${args.slice(0, 2).join(' ')} failed in ${cwd}: ${stderr || (err as Error).message}`,
    );
  }
}

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  /** kube-apiserver picks apiserver.crt/apiserver.key up from its --cert-dir. */
  servingCert: string;
  servingKey: string;
  saPublicKey: string;
  saPrivateKey: string;
}

export function pkiPaths(dir: string): Pki {
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    saPublicKey: join(dir, 'sa.pub'),
    saPrivateKey: join(dir, 'sa.key'),
  };
}

async function sign(pki: Pki, name: string, subject: string, extensions: string): Promise<void> {
  await openssl(
    ['req', ...EC_KEY, '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`],
    pki.dir,
  );
  await writeFile(join(pki.dir, `${name}.ext`), extensions);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      pki.caCert,
      '-CAkey',
      pki.caKey,
      // A random serial instead of a shared serial file: several test processes may issue at once.
      '-set_serial',
      `0x${randomBytes(12).toString('hex')}`,
      '-days',
      DAYS,
      '-out',
      `${name}.crt`,
      '-extfile',
      `${name}.ext`,
    ],
    pki.dir,
  );
}

const serverExtensions = (sans: readonly string[]): string =>
  `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`;

/** Creates the CA, the serving certificate (localhost, 127.0.0.1, plus `extraSans` such as `IP:10.0.0.1`)
 * and the ServiceAccount signing keys. */
export async function createPki(dir: string, extraSans: readonly string[] = []): Promise<Pki> {
  await mkdir(dir, { recursive: true });
  const pki = pkiPaths(dir);
  await openssl(
    [
      'req',
      '-x509',
      ...EC_KEY,
      '-days',
      DAYS,
      '-subj',
      '/CN=celerybeat-testbed-ca',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  await sign(
    pki,
    'apiserver',
    '/CN=localhost',
    serverExtensions(['DNS:localhost', 'IP:127.0.0.1', ...extraSans]),
  );
  await openssl(
    ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'sa.key'],
    dir,
  );
  await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  return pki;
}

export interface ClientCert {
  certPem: string;
  keyPem: string;
}

/** A client certificate the API server authenticates as user `user` in `groups` (subject CN and O's). */
export async function issueClientCert(
  pki: Pki,
  user: string,
  groups: readonly string[],
): Promise<ClientCert> {
  const escapeRdn = (s: string): string => s.replace(/[/\\]/g, (c) => `\\${c}`);
  const subject = `/CN=${escapeRdn(user)}${groups.map((g) => `/O=${escapeRdn(g)}`).join('')}`;
  const name = `client-${user.replace(/[^A-Za-z0-9_.-]/g, '_')}-${randomBytes(6).toString('hex')}`;
  await sign(pki, name, subject, 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  return {
    certPem: await readFile(join(pki.dir, `${name}.crt`), 'utf8'),
    keyPem: await readFile(join(pki.dir, `${name}.key`), 'utf8'),
  };
}

/** A serving certificate for `sans` (e.g. `IP:172.31.4.2`), written as <name>.crt and <name>.key. */
export async function issueServingCert(
  pki: Pki,
  name: string,
  sans: readonly string[],
): Promise<{ certFile: string; keyFile: string }> {
  await sign(pki, name, `/CN=${name}`, serverExtensions(sans));
  return { certFile: join(pki.dir, `${name}.crt`), keyFile: join(pki.dir, `${name}.key`) };
}
