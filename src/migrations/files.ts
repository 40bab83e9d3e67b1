/**
 * Finding migration files: `NNN_name.sql` (+ optional `NNN_name.down.sql`) and `NNN_name.js`
 * / `.mjs` / `.ts` modules, ordered by number. Problems are InputErrors naming the file.
 */
import { act, hint } from '../hints.js';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InputError, type InputIssue } from '../errors.js';
import { isNoTransaction } from './split.js';

export type MigrationKind = 'sql' | 'module';

export interface MigrationFile {
  name: string;
  /** Number prefix, for ordering and `create`. */
  number: number;
  kind: MigrationKind;
  /** Absolute path of the up file. */
  path: string;
  /** Path relative to the plan folder, for messages. */
  file: string;
  downPath: string | undefined;
  checksum: string;
  transactional: boolean;
  /** The up file's text (SQL files), read once with the checksum so both describe the same bytes. */
  text: string | undefined;
}

const UP = /^(\d+)_([A-Za-z0-9][A-Za-z0-9_-]*)\.(sql|js|mjs|ts)$/;
const DOWN = /^(\d+)_([A-Za-z0-9][A-Za-z0-9_-]*)\.down\.sql$/;

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Checksum of the first `n` statements of a migration: what a half-applied run has done. */
export function prefixChecksum(statements: string[], n: number): string {
  return sha256(statements.slice(0, n).join('\n;\n'));
}

export async function listMigrationFiles(dir: string, planDir: string): Promise<MigrationFile[]> {
  const rel = (p: string): string => path.relative(planDir, p) || p;
  let entries: string[];
  try {
    const info = await stat(dir);
    if (!info.isDirectory())
      throw new InputError('MIGRATIONS_DIR', `${rel(dir)} is not a folder`, [
        { file: rel(dir), path: 'migrations.dir', message: 'is not a folder' },
      ]);
    entries = await readdir(dir);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(
      'MIGRATIONS_DIR',
      `The migrations folder ${rel(dir)} cannot be read`,
      [{ file: rel(dir), path: 'migrations.dir', message: 'no such folder' }],
      {
        hint: hint('Create it ({create} does), or fix `migrations.dir` in the plan.', {
          create: act('migrate create', undefined, undefined, ['NAME']),
        }),
        cause: error,
      },
    );
  }
  const issues: InputIssue[] = [];
  const downs = new Map<string, string>();
  const ups: Array<{ number: number; name: string; ext: string; entry: string }> = [];
  for (const entry of entries.sort()) {
    const down = DOWN.exec(entry);
    if (down) {
      downs.set(`${down[1]}_${down[2]}`, entry);
      continue;
    }
    const up = UP.exec(entry);
    if (up) {
      if (entry.endsWith('.d.ts')) continue;
      ups.push({ number: Number(up[1]), name: `${up[1]}_${up[2]}`, ext: up[3]!, entry });
    } else if (/\.(sql|js|mjs|ts)$/.test(entry) && !entry.endsWith('.d.ts')) {
      issues.push({
        file: rel(path.join(dir, entry)),
        message: 'is not named like a migration (NNN_name.sql, NNN_name.down.sql or NNN_name.js)',
      });
    }
  }
  const seen = new Map<number, string>();
  for (const u of ups) {
    const other = seen.get(u.number);
    if (other)
      issues.push({ file: rel(path.join(dir, u.entry)), message: `has the same number as ${other}` });
    seen.set(u.number, u.entry);
  }
  for (const [name, entry] of downs) {
    if (!ups.some((u) => u.name === name && u.ext === 'sql')) {
      issues.push({ file: rel(path.join(dir, entry)), message: `has no matching ${name}.sql` });
    }
  }
  if (issues.length > 0) {
    throw new InputError(
      'MIGRATION_FILES_INVALID',
      `Migration files in ${rel(dir)} have problems:\n${issues.map((i) => `  ${i.file}: ${i.message}`).join('\n')}`,
      issues,
      {
        hint: hint('Rename or remove the files named above, then run {status}.', {
          status: act('migrate status'),
        }),
      },
    );
  }
  ups.sort((a, b) => a.number - b.number);
  return Promise.all(
    ups.map(async (u) => {
      const full = path.join(dir, u.entry);
      const content = await readFile(full);
      const downEntry = u.ext === 'sql' ? downs.get(u.name) : undefined;
      return {
        name: u.name,
        number: u.number,
        kind: u.ext === 'sql' ? 'sql' : 'module',
        path: full,
        file: rel(full),
        downPath: downEntry ? path.join(dir, downEntry) : undefined,
        checksum: sha256(content),
        text: u.ext === 'sql' ? content.toString('utf8') : undefined,
        transactional: u.ext === 'sql' ? !isNoTransaction(content.toString('utf8')) : true,
      } satisfies MigrationFile;
    }),
  );
}

/** `create`: the next number, zero-padded like the existing files (3 digits by default). */
export function nextMigrationNames(
  existing: Array<Pick<MigrationFile, 'number' | 'name'>>,
  slug: string,
): { up: string; down: string } {
  const last = existing[existing.length - 1];
  const width = last ? Math.max(3, last.name.split('_', 1)[0]!.length) : 3;
  const number = String((last?.number ?? 0) + 1).padStart(width, '0');
  return { up: `${number}_${slug}.sql`, down: `${number}_${slug}.down.sql` };
}
