// Kubernetes object names for the source's schedule names: a lowercase RFC 1123 subdomain of at most 253
// characters. A name that is already one is kept; others are folded (accents dropped, other characters
// become "-"). Two names that fold to the same one, or a folded name equal to a kept one, get a suffix from
// a hash of the original, so the result depends only on the names, not on their order in the source.
import { createHash } from 'node:crypto';

const MAX_NAME = 253;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isDnsSubdomain(name: string): boolean {
  return name.length <= MAX_NAME && SUBDOMAIN.test(name);
}

/** The folded form of one name (without collision handling); "task" when nothing usable is left. */
export function foldName(original: string): string {
  const ascii = original.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const labels = ascii
    .split('.')
    .map((label) =>
      label
        .replace(/[^a-z0-9-]+/g, '-')
        .replace(/-+/g, '-')
        .replace(/^-|-$/g, ''),
    )
    .filter((label) => label !== '');
  return trimToLength(labels.join('.'), MAX_NAME) || 'task';
}

function trimToLength(name: string, length: number): string {
  return name.slice(0, length).replace(/[-.]+$/, '');
}

function suffixed(original: string, folded: string, hashLength: number): string {
  const hash = createHash('sha256').update(original).digest('hex').slice(0, hashLength);
  return `${trimToLength(folded, MAX_NAME - hashLength - 1)}-${hash}`;
}

/** The Kubernetes name of every original name (originals are distinct, as in each source). */
export function assignNames(originals: readonly string[]): Map<string, string> {
  const folded = new Map(originals.map((o) => [o, isDnsSubdomain(o) ? o : foldName(o)]));
  const users = new Map<string, string[]>();
  for (const [original, name] of folded) users.set(name, [...(users.get(name) ?? []), original]);
  const kept = new Set(originals.filter((o) => folded.get(o) === o));
  const result = new Map<string, string>();
  const taken = new Set<string>();
  for (const [original, name] of folded) {
    const shared = (users.get(name)?.length ?? 0) > 1;
    // A name that needed no change keeps it; a changed one that meets another name gives way.
    if (!shared || kept.has(original)) {
      result.set(original, name);
      taken.add(name);
    }
  }
  for (const [original, name] of folded) {
    if (result.has(original)) continue;
    let hashLength = 8;
    let candidate = suffixed(original, name, hashLength);
    while (taken.has(candidate)) {
      hashLength += 4;
      candidate = suffixed(original, name, hashLength);
    }
    result.set(original, candidate);
    taken.add(candidate);
  }
  return result;
}
