import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CHECKPOINT_MARKER, writeJsonAtomic } from './checkpoints';

/**
 * Checkpoints have one durable home and many caches:
 *  - the shared store (the worker's `--blob-dir`): a path every GPU host sees (a shared
 *    filesystem, or an object-store bucket mounted as one); what a campaign's history names;
 *  - this host's cache (`--host-cache` / FEEDLOOP_HOST_CACHE): its own disk, where trainers write
 *    and from which models are loaded.
 * A directory is published to the store by copying it under a temporary name, writing its marker
 * (every file with its size) last and renaming it into place, so a reader sees all of it or none
 * of it; a copy is trusted only when its marker is there and every file it lists has that size.
 * A host that lacks a published directory pulls it into its cache the same way.
 */
export const PUBLISHED_MARKER = 'feedloop-published.json';

interface PublishedMarker {
  files: Array<{ path: string; bytes: number }>;
  publishedBy: string;
  publishedAt: string;
}

/** Null when `dir` is a complete published copy, else why not. */
export function publishedProblem(dir: string): string | null {
  let marker: PublishedMarker;
  try {
    marker = JSON.parse(fs.readFileSync(path.join(dir, PUBLISHED_MARKER), 'utf8')) as PublishedMarker;
  } catch (err) {
    return `${dir}: no readable ${PUBLISHED_MARKER} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  for (const f of marker.files ?? []) {
    let bytes: number;
    try {
      bytes = fs.statSync(path.join(dir, f.path)).size;
    } catch {
      return `${dir}: ${f.path} is missing`;
    }
    if (bytes !== f.bytes) return `${dir}: ${f.path} has ${bytes} bytes, its marker says ${f.bytes}`;
  }
  return null;
}

async function listFiles(dir: string, at = ''): Promise<Array<{ path: string; bytes: number }>> {
  const out: Array<{ path: string; bytes: number }> = [];
  for (const entry of await fsp.readdir(path.join(dir, at), { withFileTypes: true })) {
    const rel = path.join(at, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (entry.isFile() && rel !== PUBLISHED_MARKER) out.push({ path: rel, bytes: (await fsp.stat(path.join(dir, rel))).size });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Copies `from` to `to` atomically: into a temporary sibling, the checkpoint marker and then the
 * published marker last, then one rename. A complete copy already at `to` is kept (publishing is
 * idempotent: a retried activity or two hosts pulling at once end with one good copy).
 */
export async function copyPublished(from: string, to: string, by: string): Promise<void> {
  if (publishedProblem(to) === null) return;
  await fsp.mkdir(path.dirname(to), { recursive: true });
  const tmp = path.join(path.dirname(to), `.${path.basename(to)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const last = new Set([CHECKPOINT_MARKER, PUBLISHED_MARKER]);
    await fsp.cp(from, tmp, { recursive: true, filter: (src) => !(path.dirname(src) === from && last.has(path.basename(src))) });
    if (fs.existsSync(path.join(from, CHECKPOINT_MARKER))) await fsp.copyFile(path.join(from, CHECKPOINT_MARKER), path.join(tmp, CHECKPOINT_MARKER));
    const marker: PublishedMarker = { files: await listFiles(tmp), publishedBy: by, publishedAt: new Date().toISOString() };
    writeJsonAtomic(path.join(tmp, PUBLISHED_MARKER), marker);
    const problem = publishedProblem(tmp);
    if (problem) throw new Error(`copy of ${from} is incomplete: ${problem}`);
    try {
      if (fs.existsSync(to)) await fsp.rm(to, { recursive: true, force: true }); // an incomplete copy from a crash
      await fsp.rename(tmp, to);
    } catch (err) {
      // another process put a complete copy there first
      if (publishedProblem(to) !== null) throw err;
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

export class CheckpointStore {
  /**
   * @param shared the durable store (the same path on every GPU host)
   * @param cache this host's own cache directory
   * @param host who publishes (named in markers)
   */
  constructor(
    readonly shared: string,
    readonly cache: string,
    readonly host: string,
  ) {
    this.shared = path.resolve(shared);
    this.cache = path.resolve(cache);
  }

  /** Whether `p` lies in the shared store. */
  inStore(p: string): boolean {
    if (!path.isAbsolute(p)) return false;
    const rel = path.relative(this.shared, p);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  }

  /** This host's copy of a path of the shared store (the same relative path under the cache). */
  localPath(sharedPath: string): string {
    return path.join(this.cache, path.relative(this.shared, sharedPath));
  }

  /** Publishes this host's directory `localDir` to `sharedDir` (and marks the local copy complete too). */
  async publish(localDir: string, sharedDir: string): Promise<void> {
    await copyPublished(localDir, sharedDir, this.host);
    if (publishedProblem(localDir) !== null) {
      writeJsonAtomic(path.join(localDir, PUBLISHED_MARKER), JSON.parse(await fsp.readFile(path.join(sharedDir, PUBLISHED_MARKER), 'utf8')));
    }
  }

  /** The published directory of the store that holds `p` (p itself or an ancestor), if any. */
  publishedUnit(p: string): string | undefined {
    for (let dir = p; this.inStore(dir); dir = path.dirname(dir)) {
      if (fs.existsSync(path.join(dir, PUBLISHED_MARKER))) return dir;
      if (dir === this.shared) break;
    }
    return undefined;
  }

  /**
   * `p` as this host reads it: for a path inside a published directory of the store, the cached
   * copy, pulled from the store first when the cache lacks a complete one; any other path as is
   * (a base model elsewhere, or a directory written before checkpoints were published).
   */
  async localize(p: string): Promise<{ path: string; pulled: boolean }> {
    if (!this.inStore(p)) return { path: p, pulled: false };
    const unit = this.publishedUnit(p);
    if (!unit) return { path: p, pulled: false };
    const local = this.localPath(unit);
    let pulled = false;
    if (publishedProblem(local) !== null) {
      const problem = publishedProblem(unit);
      if (problem) throw new Error(`checkpoint in the shared store is not complete: ${problem}`);
      await copyPublished(unit, local, this.host);
      pulled = true;
    }
    return { path: path.join(local, path.relative(unit, p)), pulled };
  }
}
