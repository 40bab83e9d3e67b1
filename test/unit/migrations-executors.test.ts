/**
 * What the migrator sends to the database, per dialect and direction, recorded by a fake
 * Database: the transactions, sessions, lock timeouts, journal rows and records, and the errors
 * and progress events when statements fail or wait for locks. The snapshots pin the behaviour
 * the integration tests cannot reach (down of non-transactional files, module variants, retries).
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Database, Dialect, Queryable, QueryOptions, Row } from '../../src/db/database.js';
import { QueryError } from '../../src/db/errors.js';
import { MaintError } from '../../src/errors.js';
import type { MigrationProgress } from '../../src/migrations/migrator.js';
import { sha256 } from '../../src/migrations/files.js';
import { createMigrator, prefixChecksum } from '../../src/migrations/sql-migrator.js';
import { splitStatements } from '../../src/migrations/split.js';

interface StateRecord extends Row {
  name: string;
  checksum: string;
  state: 'running' | 'applied';
  statements_done: number;
  applied_at: string | null;
  duration_ms: number | null;
}

interface FakeOptions {
  dialect: Dialect;
  /** Without `script`, like PGlite. */
  script?: boolean;
  /** Statements matching these time out waiting for their lock, the first time each. */
  lockOnce?: RegExp[];
  /** Statements matching this always time out waiting for their lock. */
  lockAlways?: RegExp;
  /** Statements matching this fail with a syntax error. */
  fail?: RegExp;
  /** Rows already in the state table. */
  rows?: StateRecord[];
}

/** A Database that records every statement and keeps the state table in memory. */
class RecordingDatabase {
  readonly engine: 'postgres' | 'mysql';
  readonly dialect: Dialect;
  readonly log: string[] = [];
  readonly rows = new Map<string, StateRecord>();
  private created: boolean;
  private readonly lockedOnce = new Set<string>();
  script?: (sql: string, options?: QueryOptions) => Promise<void>;

  constructor(private readonly o: FakeOptions) {
    this.dialect = o.dialect;
    this.engine = o.dialect;
    this.created = Boolean(o.rows);
    for (const r of o.rows ?? []) this.rows.set(r.name, { ...r });
    if (o.dialect === 'postgres' && o.script !== false) {
      this.script = async (sql, options) => {
        this.log.push(`[script${options?.signal ? ' +signal' : ''}] ${sql.replaceAll('\n', ' ')}`);
        const saved = this.snapshot();
        try {
          for (const part of sql.split('\n;\n')) this.check(part);
          const m = /values \('((?:[^']|'')*)', '([^']*)', 'applied'/.exec(sql);
          if (m) this.insert(m[1]!.replaceAll("''", "'"), m[2]!, 'applied', 0);
        } catch (error) {
          this.restore(saved);
          throw error;
        }
      };
    }
  }

  query<R extends Row = Row>(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<R[]> {
    return this.run<R>('db', sql, params, options);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.log.push('[tx] begin');
    const saved = this.snapshot();
    try {
      const result = await fn({ query: (sql, params = [], opts = {}) => this.run('tx', sql, params, opts) });
      this.log.push('[tx] commit');
      return result;
    } catch (error) {
      this.restore(saved);
      this.log.push('[tx] rollback');
      throw error;
    }
  }

  async session<T>(fn: (conn: Queryable) => Promise<T>): Promise<T> {
    this.log.push('[session] open');
    try {
      return await fn({ query: (sql, params = [], opts = {}) => this.run('session', sql, params, opts) });
    } finally {
      this.log.push('[session] close');
    }
  }

  private snapshot(): Map<string, StateRecord> {
    return new Map([...this.rows].map(([k, v]) => [k, { ...v }]));
  }

  private restore(saved: Map<string, StateRecord>): void {
    this.rows.clear();
    for (const [k, v] of saved) this.rows.set(k, v);
  }

  private check(sql: string): void {
    const code =
      this.dialect === 'postgres'
        ? { lock: { sqlState: '55P03' }, syntax: { sqlState: '42601' } }
        : { lock: { errno: 1205 }, syntax: { errno: 1064 } };
    if (this.o.lockAlways?.test(sql)) throw new QueryError(`lock timeout on ${sql}`, code.lock);
    for (const re of this.o.lockOnce ?? []) {
      if (re.test(sql) && !this.lockedOnce.has(re.source)) {
        this.lockedOnce.add(re.source);
        throw new QueryError(`lock timeout on ${sql}`, code.lock);
      }
    }
    if (this.o.fail?.test(sql)) throw new QueryError(`syntax error in ${sql}`, code.syntax);
  }

  private insert(name: string, checksum: string, state: 'running' | 'applied', ms: number | null): void {
    if (this.rows.has(name)) {
      if (state === 'applied') throw new QueryError(`duplicate key ${name}`, { sqlState: '23505' });
      return;
    }
    this.rows.set(name, {
      name,
      checksum,
      state,
      statements_done: 0,
      applied_at: state === 'applied' ? '2026-01-01T00:00:00.000Z' : null,
      duration_ms: ms,
    });
  }

  private async run<R extends Row>(
    conn: string,
    sql: string,
    params: unknown[],
    options: QueryOptions,
  ): Promise<R[]> {
    const table = this.dialect === 'postgres' ? '"maint_migrations"' : '`maint_migrations`';
    const shown = params.map((p, i) =>
      typeof p === 'number' && /duration_ms/.test(sql) && !/statements_done. =/.test(sql) && i !== 0
        ? '<ms>'
        : p,
    );
    this.log.push(
      `[${conn}${options.signal ? ' +signal' : ''}] ${sql}${params.length ? ` ${JSON.stringify(shown)}` : ''}`,
    );
    if (/^create table if not exists/.test(sql) && sql.includes(table)) {
      this.created = true;
      return [];
    }
    if (/count\(\*\)/.test(sql)) return [{ n: this.created ? 1 : 0 }] as unknown as R[];
    if (sql.startsWith('select i.indexrelid'))
      return [{ name: `"public"."${String(params[0])}"` }] as unknown as R[];
    if (sql.includes(table)) {
      const [a, b, c] = params as [unknown, unknown, unknown];
      if (sql.startsWith('select')) {
        const all = [...this.rows.values()].sort((x, y) => x.name.localeCompare(y.name));
        return (sql.includes(' where ') ? all.filter((r) => r.name === a) : all) as unknown as R[];
      }
      if (sql.includes("'running'")) this.insert(String(a), String(b), 'running', null);
      else if (sql.startsWith('insert')) this.insert(String(a), String(b), 'applied', Number(c));
      else if (sql.startsWith('delete')) this.rows.delete(String(a));
      else if (sql.includes('statements_done')) {
        const r = this.rows.get(String(c))!;
        Object.assign(r, { statements_done: a, checksum: b });
      } else if (sql.includes("'applied'")) {
        Object.assign(this.rows.get(String(c))!, { state: 'applied', checksum: a });
      }
      return [];
    }
    this.check(sql);
    return [];
  }

  async close(): Promise<void> {}
}

async function planDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'maint-exec-'));
  await mkdir(path.join(dir, 'migrations'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, 'migrations', name), text);
  return dir;
}

async function migrator(db: RecordingDatabase, dir: string, retries = 2) {
  const info: string[] = [];
  const m = await createMigrator(
    db as unknown as Database,
    { dir: 'migrations', table: 'maint_migrations', lockTimeout: 300, retries, requireWindow: false },
    dir,
    {
      logger: {
        debug: () => undefined,
        info: (msg) => info.push(msg),
        warn: () => undefined,
        error: () => undefined,
      },
    },
  );
  return { m, info };
}

function describeError(error: unknown): unknown {
  if (!(error instanceof MaintError)) return error;
  return {
    code: error.code,
    exitCode: error.exitCode,
    message: error.message,
    hint: error.hint,
    details: error.details,
  };
}

const ALL_KINDS = {
  '001_a.sql': 'create table a (id int);\ninsert into a values (1);\n',
  '001_a.down.sql': 'drop table a;\n',
  '002_idx.sql': "-- maint:no-transaction\ncreate index concurrently a_idx on a (id);\nselect 'two';\n",
  '002_idx.down.sql': "drop index concurrently a_idx;\nselect 'down two';\n",
  '003_mod.mjs':
    "export async function up({ db }) { await db.query('update a set id = 2'); }\n" +
    "export async function down({ db }) { await db.query('update a set id = 1'); }\n",
  '004_notx.mjs':
    'export const transaction = false;\n' +
    "export async function up({ db, name }) { await db.query(`select 'up ${name}'`); }\n" +
    "export async function down({ db, name }) { await db.query(`select 'down ${name}'`); }\n",
};

const VARIANTS = [
  { label: 'postgres', dialect: 'postgres' as const, script: true },
  { label: 'postgres without script (PGlite)', dialect: 'postgres' as const, script: false },
  { label: 'mysql', dialect: 'mysql' as const, script: false },
];

describe.each(VARIANTS)('$label executor', ({ dialect, script }) => {
  it('applies and reverts SQL, no-transaction SQL and both kinds of module', async () => {
    const dir = await planDir(ALL_KINDS);
    const db = new RecordingDatabase({ dialect, script });
    const { m } = await migrator(db, dir);
    const events: MigrationProgress[] = [];
    const signal = new AbortController().signal;
    const applied = await m.up({ signal, onProgress: (p) => events.push(p) });
    expect(applied.map((a) => [a.name, a.transactional, a.hasDown])).toMatchSnapshot('applied');
    expect(events.map((e) => `${e.type} ${e.name}`)).toMatchSnapshot('events');
    expect(db.log).toMatchSnapshot('up');
    expect([...db.rows.values()].map((r) => [r.name, r.state])).toMatchSnapshot('rows after up');
    db.log.length = 0;
    const reverted = await m.down({ to: 0, onProgress: (p) => events.push(p) });
    expect(reverted.map((r) => r.name)).toMatchSnapshot('reverted');
    expect(db.log).toMatchSnapshot('down');
    expect(db.rows.size).toBe(0);
  });

  it('retries statements that time out waiting for a lock, reporting each retry', async () => {
    const dir = await planDir({
      '001_alter.sql': 'create table a (id int);\nalter table a add column b int;\n',
      '001_alter.down.sql': 'alter table a drop column b;\ndrop table a;\n',
      '002_mod.mjs':
        "export async function up({ db }) { await db.query('alter table a add column m int'); }\n" +
        "export async function down({ db }) { await db.query('alter table a drop column m'); }\n",
    });
    const db = new RecordingDatabase({
      dialect,
      script,
      lockOnce: [/add column b/, /drop column b/, /add column m/, /drop column m/],
    });
    const { m } = await migrator(db, dir);
    const events: MigrationProgress[] = [];
    // The backoff is jittered (half to all of the delay): fixed here so the messages are stable.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    try {
      await m.up({ onProgress: (p) => events.push(p) });
      await m.down({ to: 0, onProgress: (p) => events.push(p) });
    } finally {
      random.mockRestore();
    }
    expect(events.map((e) => [e.type, e.name, e.attempt, e.message])).toMatchSnapshot('events');
    expect(db.log).toMatchSnapshot('log');
  });

  it('names the statement when the lock never comes, up and down', async () => {
    const dir = await planDir({
      '001_alter.sql': 'create table a (id int);\nalter table a add column b int;\n',
      '001_alter.down.sql': 'select 1;\nalter table a drop column b;\n',
      '002_notx.sql': '-- maint:no-transaction\nalter table a add column c int;\n',
      '002_notx.down.sql': 'alter table a drop column c;\n',
    });
    const upDb = new RecordingDatabase({ dialect, script, lockAlways: /add column b/ });
    const up = await (await migrator(upDb, dir, 1)).m.up().catch((e: unknown) => e);
    expect(describeError(up)).toMatchSnapshot('up, transactional');
    const notxDb = new RecordingDatabase({
      dialect,
      script,
      lockAlways: /add column c/,
      rows: [applied('001_alter.sql', dir)],
    });
    const notx = await (await migrator(notxDb, dir, 0)).m.up().catch((e: unknown) => e);
    expect(describeError(notx)).toMatchSnapshot('up, no-transaction');
    const downDb = new RecordingDatabase({
      dialect,
      script,
      lockAlways: /drop column (b|c)/,
      rows: [applied('001_alter.sql', dir), applied('002_notx.sql', dir)],
    });
    const { m } = await migrator(downDb, dir, 0);
    expect(describeError(await m.down({ to: '001_alter' }).catch((e: unknown) => e))).toMatchSnapshot(
      'down, no-transaction',
    );
    const txDb = new RecordingDatabase({
      dialect,
      script,
      lockAlways: /drop column b/,
      rows: [applied('001_alter.sql', dir)],
    });
    const { m: txM } = await migrator(txDb, dir, 0);
    expect(describeError(await txM.down({ to: 0 }).catch((e: unknown) => e))).toMatchSnapshot(
      'down, transactional',
    );
  });

  it('reports failed statements: rolled back, stopped half-way, or before anything ran', async () => {
    const dir = await planDir({
      '001_bad.sql': "create table a (id int);\nbogus statement;\nselect 'three';\n",
      '002_notx.sql': '-- maint:no-transaction\nbogus first;\nselect 2;\n',
    });
    const db = new RecordingDatabase({ dialect, script, fail: /bogus/ });
    const { m } = await migrator(db, dir);
    expect(describeError(await m.up().catch((e: unknown) => e))).toMatchSnapshot('first file');
    expect(db.log).toMatchSnapshot('log');
    expect([...db.rows.values()].map((r) => [r.name, r.state, r.statements_done])).toMatchSnapshot('rows');
    const second = new RecordingDatabase({
      dialect,
      script,
      fail: /bogus/,
      rows: [applied('001_bad.sql', dir)],
    });
    const { m: m2 } = await migrator(second, dir);
    expect(describeError(await m2.up().catch((e: unknown) => e))).toMatchSnapshot('no-transaction file');
  });

  it('resumes a journaled migration after the statements done', async () => {
    const dir = await planDir({
      '001_three.sql': "-- maint:no-transaction\nselect 'one';\nselect 'two';\nselect 'three';\n",
    });
    const text = "-- maint:no-transaction\nselect 'one';\nselect 'two';\nselect 'three';\n";
    const statements = splitStatements(text, { dialect });
    const db = new RecordingDatabase({
      dialect,
      script,
      rows: [
        {
          name: '001_three',
          checksum: prefixChecksum(statements, 2),
          state: 'running',
          statements_done: 2,
          applied_at: null,
          duration_ms: null,
        },
      ],
    });
    const { m, info } = await migrator(db, dir);
    await m.up();
    expect(info).toMatchSnapshot('log messages');
    expect(db.log).toMatchSnapshot('log');
  });

  it('refuses modules without the function for the direction', async () => {
    const dir = await planDir({ '001_empty.mjs': 'export const nothing = 1;\n' });
    const db = new RecordingDatabase({ dialect, script });
    const { m } = await migrator(db, dir);
    expect(describeError(await m.up().catch((e: unknown) => e))).toMatchSnapshot('up');
    const db2 = new RecordingDatabase({ dialect, script, rows: [applied('001_empty.mjs', dir)] });
    const { m: m2 } = await migrator(db2, dir);
    const error = await m2.down({ to: 0 }).catch((e: unknown) => e);
    expect(describeError(error)).toMatchSnapshot('down');
  });
});

/** A state row for a file already applied (with the checksum of the file in the folder). */
function applied(file: string, dir: string): StateRecord {
  return {
    name: file.replace(/\.[a-z]+$/, ''),
    checksum: sha256(readFileSync(path.join(dir, 'migrations', file))),
    state: 'applied',
    statements_done: 0,
    applied_at: null,
    duration_ms: 1,
  };
}
