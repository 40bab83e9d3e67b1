import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireFileLock, fileLockStatus } from '../../src/db/file-lock.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'maint-filelock-'));
  dirs.push(dir);
  return dir;
}

/** Blocks the event loop, as PGlite's WebAssembly does while it runs a statement. */
function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

describe('file lock', () => {
  it('keeps its lock while heartbeats pile up behind a busy event loop', async () => {
    const dir = await tempDir();
    const lock = await acquireFileLock(dir, 'x', { wait: false, purpose: 'test' }, 2);
    expect(lock).not.toBeNull();
    try {
      for (let round = 0; round < 200; round += 1) {
        busy(3);
        // Let the queued heartbeat callbacks and file operations interleave with the check.
        await new Promise((resolve) => setImmediate(resolve));
        await lock!.verify();
        expect((await fileLockStatus(dir, 'x'))?.lockId).toBe(lock!.holder.lockId);
      }
    } finally {
      await lock!.release();
    }
    expect(await fileLockStatus(dir, 'x')).toBeNull();
    // No staged copies are left behind.
    expect(await readdir(dir)).toEqual([]);
  });

  it('lets exactly one of several contenders in', async () => {
    const dir = await tempDir();
    const locks = await Promise.all(
      Array.from({ length: 8 }, () => acquireFileLock(dir, 'x', { wait: false, purpose: 'test' }, 1000)),
    );
    const won = locks.filter((l) => l !== null);
    expect(won).toHaveLength(1);
    await won[0]!.release();
    expect(await readdir(dir)).toEqual([]);
  });
});
