/**
 * An exclusive lock file for embedded databases (PGlite): one process owns a data folder. The
 * file is created with O_EXCL, so exactly one process wins; it records the holder's identity and
 * heartbeat, and a holder whose pid is gone (same host) is stale and replaced.
 */
import { hostname } from 'node:os';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AcquireLockOptions, LockHolder, LockSession } from './database.js';
import { abortableSleep } from './common.js';
import { liveHolderError, LockLostError, unknownLockId } from './errors.js';
import { lockIdentity, staleAfterMs } from './identity.js';

interface LockFileContent extends LockHolder {
  heartbeatMs: number;
}

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
    // A half-written file cannot happen (we write then rename), so unreadable means foreign: treat as held.
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
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(JSON.stringify(content));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
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
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(content));
    await rename(tmp, file);
  };
  let lost: unknown;
  const timer = setInterval(() => {
    write().catch((error: unknown) => {
      lost ??= error;
    });
  }, heartbeatMs);
  timer.unref();
  let released = false;
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
