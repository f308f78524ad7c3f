// Resident size of a child process from /proc: sampled while it runs, so a table can show both the peak
// (VmHWM, loading included) and the steady size (the median of the samples once the load is steady).

import { readFile } from 'node:fs/promises';

export interface MemoryFigures {
  peakRssMb: number;
  steadyRssMb: number;
  cpuSeconds: number;
}

export class MemorySampler {
  readonly #pid: number;
  readonly #samples: number[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(pid: number) {
    this.#pid = pid;
  }

  /** Starts sampling VmRSS every `everyMs`; earlier samples (loading) are dropped. */
  steadyFrom(everyMs = 500): void {
    this.#samples.length = 0;
    clearInterval(this.#timer);
    this.#timer = setInterval(() => {
      void readStatus(this.#pid)
        .then((status) => this.#samples.push(status.rssKb / 1024))
        .catch(() => {});
    }, everyMs);
  }

  async finish(): Promise<MemoryFigures> {
    clearInterval(this.#timer);
    const status = await readStatus(this.#pid);
    const sorted = [...this.#samples].sort((a, b) => a - b);
    return {
      peakRssMb: status.hwmKb / 1024,
      steadyRssMb: sorted[Math.floor(sorted.length / 2)] ?? status.rssKb / 1024,
      cpuSeconds: await cpuSeconds(this.#pid),
    };
  }
}

async function readStatus(pid: number): Promise<{ rssKb: number; hwmKb: number }> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return {
    rssKb: Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0),
    hwmKb: Number(/VmHWM:\s+(\d+)/.exec(text)?.[1] ?? 0),
  };
}

async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
