// There is no container engine here, so this proves the image's runtime stage the other way: it follows the
// Dockerfile's own COPY and RUN lines to assemble the same file set (package.json, package-lock.json,
// production node_modules, dist/, crds/) in a temporary directory, then runs the operator from it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Copy, parseDockerfile, type Stage, stage } from './dockerfile.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const node24 = join(root, 'node_modules', '.bin', 'node');
const stages = parseDockerfile(join(root, 'Dockerfile'));
const work = mkdtempSync(join(tmpdir(), 'celerybeat-operator-image-'));
const stageDirs = new Map(stages.map((s) => [s.name, join(work, s.name)]));

function dirOf(name: string): string {
  const dir = stageDirs.get(name);
  if (!dir) throw new Error(`Dockerfile copies from unknown stage ${name}`);
  return dir;
}

/** Where a COPY source lives here: the repository for the build context, else the stage's directory. */
function sourcePath(copy: Copy, source: string): string {
  if (copy.from === undefined) return join(root, source);
  const from = stage(stages, copy.from);
  const inStage = relative(from.workdir, source);
  if (inStage.startsWith('..'))
    throw new Error(`COPY --from=${copy.from} ${source} is outside ${from.workdir}`);
  return join(dirOf(copy.from), inStage);
}

function applyCopies(target: Stage): void {
  const dir = dirOf(target.name);
  for (const copy of target.copies) {
    const intoDir = copy.destination.endsWith('/') || copy.sources.length > 1;
    for (const source of copy.sources) {
      const destination = join(dir, copy.destination, intoDir ? basename(source) : '');
      cpSync(sourcePath(copy, source), destination, { recursive: true });
    }
  }
}

function sh(command: string, cwd: string): void {
  const result = spawnSync('sh', ['-c', command], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
  });
  assert.equal(result.status, 0, `"${command}" failed in ${cwd}:\n${result.stdout}\n${result.stderr}`);
}

function operator(args: string[], cwd: string) {
  return spawnSync(node24, [join(cwd, 'dist', 'cli', 'main.js'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, NODE_ENV: 'production', HOME: cwd },
  });
}

const runtime = dirOf('runtime');

describe('container image runtime stage', { timeout: 900_000 }, () => {
  before(() => {
    const build = stage(stages, 'build');
    applyCopies(build);
    // The repository's own install of the same lock file stands in for the build stage's full `npm ci`,
    // which would only download the same dev toolchain again.
    symlinkSync(join(root, 'node_modules'), join(dirOf('build'), 'node_modules'));
    for (const run of build.runs.filter((r) => !r.startsWith('npm ci'))) sh(run, dirOf('build'));

    const deps = stage(stages, 'deps');
    applyCopies(deps);
    for (const run of deps.runs) sh(run, dirOf('deps'));

    applyCopies(stage(stages, 'runtime'));
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  test('the runtime stage holds exactly the package files, dist/, crds/ and node_modules', () => {
    const copied = stage(stages, 'runtime').copies.flatMap((c) => c.sources.map((s) => basename(s)));
    assert.deepEqual(copied.sort(), ['crds', 'dist', 'node_modules', 'package-lock.json', 'package.json']);
    assert.equal(stage(stages, 'runtime').base, 'node:24-bookworm-slim');
  });

  test('only production dependencies are installed', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const name of Object.keys(pkg.dependencies)) {
      assert.ok(existsSync(join(runtime, 'node_modules', name, 'package.json')), `${name} is missing`);
    }
    // A dev dependency may also be a production one's dependency (@types/node is); the lock file marks
    // the packages needed only in development.
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages).filter(([path, entry]) => path && entry.dev);
    assert.ok(devOnly.length > 0, 'the lock file marks no dev-only package');
    for (const [path] of devOnly) {
      assert.ok(!existsSync(join(runtime, path)), `dev-only package ${path} is in the image`);
    }
    for (const name of Object.keys(pkg.devDependencies)) {
      if (devOnly.some(([path]) => path === `node_modules/${name}`)) continue;
      assert.ok(
        existsSync(join(runtime, 'node_modules', name)),
        `${name} is both dev and production yet missing`,
      );
    }
  });

  test('the entry point is an executable node script that runs with its young generation bounded', () => {
    const main = join(runtime, 'dist', 'cli', 'main.js');
    accessSync(main, constants.X_OK);
    assert.match(readFileSync(main, 'utf8'), /^#!\/usr\/bin\/env -S node --max-semi-space-size=8\n/);
    // Started as the image starts it, through its first line: Node must accept the flags given there.
    const direct = spawnSync(main, ['--help'], {
      cwd: runtime,
      encoding: 'utf8',
      env: { PATH: `${dirname(node24)}:${process.env.PATH}`, NODE_ENV: 'production', HOME: runtime },
    });
    assert.equal(direct.status, 0, direct.stderr);
    assert.match(direct.stdout, /\brun\b/);
  });

  test('--help works from the assembled image', () => {
    const result = operator(['--help'], runtime);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /\brun\b/);
    assert.match(result.stdout, /\bvalidate\b/);
    const runHelp = operator(['run', '--help'], runtime);
    assert.equal(runHelp.status, 0, runHelp.stderr);
    assert.match(runHelp.stdout, /--redis-url/);
    assert.match(runHelp.stdout, /--leader-elect/);
  });

  test('validate accepts a good manifest and names the field of a bad one', () => {
    const good = join(work, 'good.yaml');
    writeFileSync(
      good,
      [
        'apiVersion: celerybeat.io/v1alpha1',
        'kind: PeriodicTask',
        'metadata: {name: add-every-30-seconds, namespace: default}',
        'spec: {task: tasks.add, interval: {every: 30, period: seconds}, args: [16, 16]}',
        '',
      ].join('\n'),
    );
    const ok = operator(['validate', good], runtime);
    assert.equal(ok.status, 0, `${ok.stdout}${ok.stderr}`);

    const bad = join(work, 'bad.yaml');
    writeFileSync(
      bad,
      [
        'apiVersion: celerybeat.io/v1alpha1',
        'kind: PeriodicTask',
        'metadata: {name: broken, namespace: default}',
        'spec: {task: tasks.add, interval: {every: 30, period: fortnights}}',
        '',
      ].join('\n'),
    );
    const rejected = operator(['validate', bad], runtime);
    assert.notEqual(rejected.status, 0);
    assert.match(`${rejected.stdout}${rejected.stderr}`, /period/);
  });

  test("validate and next accept the project's examples", () => {
    const examples = readdirSync(join(root, 'examples'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(root, 'examples', f));
    assert.ok(examples.length > 0, 'examples/ has no manifest');
    const valid = operator(['validate', ...examples], runtime);
    assert.equal(valid.status, 0, `${valid.stdout}${valid.stderr}`);
    const next = operator(['next', join(root, 'examples', 'interval-seconds.yaml'), '--count', '2'], runtime);
    assert.equal(next.status, 0, next.stderr);
    assert.equal(next.stdout.trim().split('\n').length, 2, next.stdout);
  });

  test('the build context lets through every file the build stage copies', () => {
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8');
    for (const copy of stage(stages, 'build').copies) {
      for (const source of copy.sources) {
        assert.match(
          ignore,
          new RegExp(`^!${source.replace(/\./g, '\\.')}/?$`, 'm'),
          `.dockerignore hides ${source}`,
        );
      }
    }
  });
});
