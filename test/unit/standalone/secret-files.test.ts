// Standalone mode's broker Secrets: a Secret key {name, key} is the file <dir>/<name>/<key>, as a Secret
// mounted as a volume lays it out (its ..data links and dated directory are not keys).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SecretFiles } from '../../../src/standalone/secret-files.ts';

test('each file of <dir>/<name> is a key; a missing directory is a missing Secret; no --secrets-dir says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'secret-files-'));
  try {
    // The layout of a mounted Secret: keys link into ..data, which links to a dated directory.
    const dated = join(dir, 'team-b-broker', '..2030_01_01_00_00_00.1');
    await mkdir(dated, { recursive: true });
    await writeFile(join(dated, 'url'), 'redis://team-b:6379/1\n');
    await writeFile(join(dated, '.hidden-key'), 'x');
    await symlink('..2030_01_01_00_00_00.1', join(dir, 'team-b-broker', '..data'));
    await symlink(join('..data', 'url'), join(dir, 'team-b-broker', 'url'));
    await symlink(join('..data', '.hidden-key'), join(dir, 'team-b-broker', '.hidden-key'));
    const files = new SecretFiles(dir);
    assert.deepEqual(await files.read('team-b-broker'), {
      '.hidden-key': 'x',
      url: 'redis://team-b:6379/1\n',
    });
    assert.equal(await files.read('absent'), undefined);
    assert.equal(files.describe('team-b-broker'), `Secret file ${join(dir, 'team-b-broker')}`);
    await assert.rejects(new SecretFiles(undefined).read('team-b-broker'), /no --secrets-dir is given/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
