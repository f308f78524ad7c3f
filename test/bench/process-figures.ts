// Figures of running processes and of the machine from /proc, and of the test bed's control plane (its pids
// and ports from the state.json the test bed writes, etcd's and the API server's own /metrics): to say
// whether the operator, the API server, etcd, kubectl or the machine itself is the limit of a step.
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import type { AdminTls } from './task-tally.ts';

export interface ProcessStatus {
  rssMb: number;
  /** VmHWM: the peak resident size since the process started. */
  hwmMb: number;
}

export async function processStatus(pid: number): Promise<ProcessStatus> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return {
    rssMb: Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0) / 1024,
    hwmMb: Number(/VmHWM:\s+(\d+)/.exec(text)?.[1] ?? 0) / 1024,
  };
}

const TICKS = 100;

/** CPU seconds (user + system) a process has used; with `children`, those of its exited children too. */
export async function cpuSeconds(pid: number | 'self', children = false): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // Fields after the command: state is [0], utime [11], stime [12], cutime [13], cstime [14].
  const own = Number(fields[11]) + Number(fields[12]);
  return (children ? Number(fields[13]) + Number(fields[14]) : own) / TICKS;
}

/** Busy and total CPU time of the whole machine, in seconds (all cores). */
export async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  // idle and iowait
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}

export interface ControlPlaneProcesses {
  apiserverPid: number;
  etcdPid: number;
  etcdUrl: string;
}

/** The pids and etcd's client URL of the control plane in `dir` (the test bed's state.json). */
export async function controlPlaneProcesses(dir: string): Promise<ControlPlaneProcesses> {
  const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as {
    etcdPort: number;
    pids: { etcd: number; apiserver: number };
  };
  return {
    apiserverPid: state.pids.apiserver,
    etcdPid: state.pids.etcd,
    etcdUrl: `http://127.0.0.1:${state.etcdPort}`,
  };
}

/** Sums of all series of a metric whose labels contain every `labels` pair (Prometheus text). */
export function sumSeries(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const labelText = rest[0] === '{' ? rest.slice(1, rest.indexOf('}')) : '';
    if (!wanted.every((w) => labelText.split(/,(?=[a-z_]+=")/).includes(w))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

export async function etcdMetrics(etcdUrl: string): Promise<string> {
  return (await fetch(`${etcdUrl}/metrics`)).text();
}

/** The API server's /metrics, read as the admin. */
export async function apiServerMetrics(server: string, tls: AdminTls): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${server}/metrics`, { ...tls, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('API server /metrics: no answer in 60 s')));
    req.on('error', reject);
    req.end();
  });
}

export async function adminTls(dir: string, caPath: string): Promise<AdminTls> {
  return {
    ca: await readFile(caPath, 'utf8'),
    cert: await readFile(join(dir, 'pki', 'admin.crt'), 'utf8'),
    key: await readFile(join(dir, 'pki', 'admin.key'), 'utf8'),
  };
}
