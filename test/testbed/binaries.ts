// Where the pinned kube-apiserver, etcd, kubectl, helm (and the cron oracle and promtool) are: the versioned cache directory that
// build-binaries.sh fills (it builds only what is missing). CELERYBEAT_TESTBIN_DIR overrides it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BUILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'build-binaries.sh');
export const BINARIES = ['etcd', 'kube-apiserver', 'kubectl', 'helm'] as const;

function complete(dir: string): boolean {
  return BINARIES.every((b) => existsSync(join(dir, b)));
}

/** The binary directory; builds the missing binaries first (minutes on a fresh machine; needs Go). */
export async function ensureBinaries(): Promise<string> {
  const override = process.env.CELERYBEAT_TESTBIN_DIR;
  if (override) {
    if (!complete(override)) {
      throw new Error(`CELERYBEAT_TESTBIN_DIR=${override} lacks one of ${BINARIES.join(', ')}`);
    }
    return override;
  }
  const { stdout } = await run('bash', [BUILD_SCRIPT, '--print-dir']);
  const dir = stdout.trim();
  if (complete(dir)) return dir;
  process.stderr.write(`building the test bed binaries into ${dir} (first time only)\n`);
  try {
    await run('bash', [BUILD_SCRIPT], { maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(
      `bash test/testbed/build-binaries.sh failed:\n${stderr.split('\n').slice(-30).join('\n')}`,
    );
  }
  if (!complete(dir)) throw new Error(`build-binaries.sh finished but ${dir} lacks a binary`);
  return dir;
}

/**
 * The cron oracle (test/testbed/go/cron-oracle: the CronJob controller's cron library), built by the same script
 * into the same directory when missing. Found beside the binaries of CELERYBEAT_TESTBIN_DIR when that is set.
 */
export function cronOracle(): Promise<string> {
  return toolBinary('cron-oracle');
}

/** Prometheus's promtool (test/testbed/go/promtool), for the chart's alert rules; found and built the same way. */
export function promtool(): Promise<string> {
  return toolBinary('promtool');
}

async function toolBinary(name: string): Promise<string> {
  const override = process.env.CELERYBEAT_TESTBIN_DIR;
  const dir = override ?? (await run('bash', [BUILD_SCRIPT, '--print-dir'])).stdout.trim();
  const path = join(dir, name);
  if (existsSync(path)) return path;
  if (override) throw new Error(`CELERYBEAT_TESTBIN_DIR=${override} lacks ${name}`);
  try {
    await run('bash', [BUILD_SCRIPT], { maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(
      `bash test/testbed/build-binaries.sh failed:\n${stderr.split('\n').slice(-30).join('\n')}`,
    );
  }
  if (!existsSync(path)) throw new Error(`build-binaries.sh finished but ${path} is missing`);
  return path;
}
