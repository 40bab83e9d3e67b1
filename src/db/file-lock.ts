/**
 * An exclusive lock file for embedded databases (PGlite): one process owns a data folder. The
 * file is created with O_EXCL, so exactly one process wins; it records the holder's identity and
 * heartbeat, and a holder whose pid is gone (same host) is stale and replaced.
 */
import { hostname } from 'node:os';
import { link, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AcquireLockOptions, LockHolder, LockSession } from './database.js';
import { abortableSleep } from './common.js';
import { liveHolderError, LockLostError, unknownLockId } from './errors.js';
import { lockIdentity, staleAfterMs } from './identity.js';

interface LockFileContent extends LockHolder {
  heartbeatMs: number;
}

/** Names each staged copy this process writes (several locks may be taken at once). */
let stagedFiles = 0;

export function lockFilePath(dir: string, name: string): string {
  return path.join(dir, `maint-${name}.lock`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(file: string): Promise<LockFileContent | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockFileContent;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // A half-written file cannot happen (created by link, replaced by rename, always whole): an
    // unreadable one was not written by maint, and is treated as no holder.
    return null;
  }
}

function withAge(content: LockFileContent): LockHolder {
  const age = Date.now() - Date.parse(content.lastHeartbeat);
  const { heartbeatMs, ...holder } = content;
  return { ...holder, heartbeatAgeMs: age, stale: age > staleAfterMs(heartbeatMs) };
}

/** The live holder, or null when the lock is free or its holder's process is gone. */
export async function fileLockStatus(dir: string, name: string): Promise<LockHolder | null> {
  const content = await readHolder(lockFilePath(dir, name));
  if (!content) return null;
  if (content.host === hostname() && !processAlive(content.pid)) return null;
  return withAge(content);
}

/** Another live process that holds a lock in this data folder, if any (it owns the folder). */
export async function folderOwner(dir: string): Promise<LockHolder | null> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return null;
  }
  for (const entry of entries) {
    const m = /^maint-(.+)\.lock$/.exec(entry);
    if (!m) continue;
    const holder = await fileLockStatus(dir, m[1]!);
    if (holder && !(holder.pid === process.pid && holder.host === hostname())) return holder;
  }
  return null;
}

export async function acquireFileLock(
  dir: string,
  name: string,
  options: AcquireLockOptions,
  heartbeatMs: number,
): Promise<LockSession | null> {
  await mkdir(dir, { recursive: true });
  const file = lockFilePath(dir, name);
  const identity = lockIdentity(options.purpose);
  const now = new Date().toISOString();
  const content: LockFileContent = { ...identity, since: now, lastHeartbeat: now, heartbeatMs };
  // Every version of the file is written whole under a name of its own, then put in place: a
  // reader never sees an empty or half-written lock file (O_EXCL then write would show one, and a
  // rival would take the empty file for a dead holder's and remove it).
  const staged = async (): Promise<string> => {
    const tmp = `${file}.${process.pid}.${++stagedFiles}.tmp`;
    await writeFile(tmp, JSON.stringify(content));
    return tmp;
  };
  for (;;) {
    const tmp = await staged();
    try {
      // link() fails with EEXIST when the lock file exists: exactly one process wins.
      await link(tmp, file);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(tmp, { force: true });
    }
    const holder = await fileLockStatus(dir, name);
    if (holder === null) {
      // Dead holder: remove its file and race again (O_EXCL decides the winner).
      await rm(file, { force: true });
      continue;
    }
    if (!options.wait) return null;
    await abortableSleep(150 + Math.random() * 200, options.signal);
  }
  const write = async (): Promise<void> => {
    content.lastHeartbeat = new Date().toISOString();
    await rename(await staged(), file);
  };
  let lost: unknown;
  // One heartbeat write at a time: when the event loop was busy (PGlite runs in this thread), a
  // tick that finds the last write still under way skips instead of racing it.
  let writing = false;
  let released = false;
  const timer = setInterval(() => {
    if (writing || released) return;
    writing = true;
    write()
      .catch((error: unknown) => {
        lost ??= error;
      })
      .finally(() => {
        writing = false;
      });
  }, heartbeatMs);
  timer.unref();
  const holder: LockHolder = content;
  return {
    holder,
    verify: async () => {
      const current = await readHolder(file);
      if (released || lost || current?.lockId !== identity.lockId) {
        throw new LockLostError(
          `The lock file ${file} no longer belongs to this process.`,
          lost ? { cause: lost } : {},
        );
      }
    },
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      const current = await readHolder(file);
      if (current?.lockId === identity.lockId) await rm(file, { force: true });
    },
  };
}

export async function releaseFileLock(dir: string, name: string, lockId: string): Promise<void> {
  const file = lockFilePath(dir, name);
  const content = await readHolder(file);
  if (!content || content.lockId !== lockId) throw unknownLockId(name, lockId);
  const holder = withAge(content);
  const sameHost = content.host === hostname();
  if (sameHost && processAlive(content.pid)) {
    if (!holder.stale) throw liveHolderError(name, holder);
    // A frozen holder: end it like the server would end its session, so it cannot wake and continue.
    process.kill(content.pid, 'SIGKILL');
  } else if (!sameHost && !holder.stale) {
    throw liveHolderError(name, holder);
  }
  await rm(file, { force: true });
}
