// The node's images, made by build-images.sh with buildah (no registry anywhere): the pause image, the
// node:24-bookworm-slim base and the operator built from the project's Dockerfile. They reach the node's
// containerd as docker archives.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../command.ts';
import { nodePaths, PAUSE_IMAGE } from './configs.ts';
import { NODE_PROGRAMS } from './support.ts';

const SCRIPT = join(import.meta.dirname, 'build-images.sh');
export const OPERATOR_IMAGE = 'localhost/celerybeat-operator';

const script = (args: readonly string[]): Promise<string> =>
  runCommand('bash', [SCRIPT, ...args]).then((out) => out.trim());

/** Runs ctr against the containerd of the node in `nodeDir`, in the CRI's namespace. */
export function ctr(nodeDir: string, args: readonly string[]): Promise<string> {
  const socket = nodePaths(nodeDir).containerdSocket;
  return runCommand(NODE_PROGRAMS.ctr, ['--address', socket, '--namespace', 'k8s.io', ...args]);
}

/** Loads a docker archive into the node's containerd, unpacked, so the kubelet can use it at once. */
export async function importImage(nodeDir: string, archive: string): Promise<void> {
  await ctr(nodeDir, ['images', 'import', '--snapshotter', 'overlayfs', archive]);
}

/** Builds localhost/celerybeat-operator:<tag> from the Dockerfile (the base image first, if missing). */
export async function buildOperatorImage(tag: string, label?: string): Promise<string> {
  const out = await script(['operator', tag, ...(label ? [label] : [])]);
  return out.split('\n').at(-1) ?? `${OPERATOR_IMAGE}:${tag}`;
}

/** Size of a built image as buildah reports it (uncompressed layers), e.g. "438 MB". */
export function imageSize(image: string): Promise<string> {
  return script(['size', image]);
}

/** Writes `image` as a docker archive named `name`, imports it into the node's containerd; the archive's size. */
export async function loadImage(nodeDir: string, image: string, name = image): Promise<number> {
  const work = await mkdtemp(join(tmpdir(), 'celerybeat-image-'));
  try {
    const archive = join(work, 'image.tar');
    await script(['archive', image, name, archive]);
    await importImage(nodeDir, archive);
    return (await stat(archive)).size;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The sandbox image every pod starts with (containerd's sandbox_image). */
export async function loadPauseImage(nodeDir: string): Promise<void> {
  await script(['pause']);
  await loadImage(nodeDir, PAUSE_IMAGE);
}
