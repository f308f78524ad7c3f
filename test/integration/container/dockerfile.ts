// Reads the stages of the project's Dockerfile, so the container test assembles exactly the file set the
// image holds: the Dockerfile stays the one place that lists it.
import { readFileSync } from 'node:fs';

export interface Copy {
  /** Stage the files come from, or undefined for the build context. */
  from: string | undefined;
  sources: string[];
  destination: string;
}

export interface Stage {
  name: string;
  base: string;
  workdir: string;
  copies: Copy[];
  runs: string[];
}

/** Joins continuation lines and drops comments, then splits the instructions into stages. */
export function parseDockerfile(path: string): Stage[] {
  const text = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const line of text.split('\n')) {
    const [instruction = '', ...words] = line.trim().split(/\s+/);
    const rest = line.trim().slice(instruction.length).trim();
    const stage = stages.at(-1);
    switch (instruction.toUpperCase()) {
      case 'FROM': {
        const [base = '', as, name] = words;
        if (as?.toUpperCase() !== 'AS' || !name) throw new Error(`Dockerfile: unnamed stage "FROM ${rest}"`);
        stages.push({ name, base, workdir: '/', copies: [], runs: [] });
        break;
      }
      case 'WORKDIR':
        if (stage) stage.workdir = rest;
        break;
      case 'RUN':
        stage?.runs.push(rest);
        break;
      case 'COPY': {
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((w) => !w.startsWith('--'));
        const destination = paths.pop();
        if (!destination || paths.length === 0) throw new Error(`Dockerfile: bad COPY "${rest}"`);
        stage?.copies.push({ from, sources: paths, destination });
        break;
      }
    }
  }
  return stages;
}

export function stage(stages: Stage[], name: string): Stage {
  const found = stages.find((s) => s.name === name);
  if (!found) throw new Error(`Dockerfile has no stage named ${name}`);
  return found;
}
