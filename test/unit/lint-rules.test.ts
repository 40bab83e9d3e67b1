/** The exact findings of the rules, severity by table size, directives, parse errors, and docs for every rule. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { lintFile } from '../../src/lint/lint-file.js';
import { RULE_IDS, RULES } from '../../src/lint/rules/index.js';
import { parseSize, sizeMap } from '../../src/lint/size-sql.js';

const pg = (text: string, transactional = true) =>
  lintFile({ file: 'migrations/007_x.sql', text, dialect: 'postgres', transactional });

describe('rule findings', () => {
  it('reports the exact finding: rule, severity, position, message, hint, classification, table', async () => {
    const r = await pg(
      "SET lock_timeout = '2s';\nALTER TABLE orders ADD CONSTRAINT orders_fk FOREIGN KEY (c) REFERENCES customers (id);\n",
    );
    expect(r.findings).toEqual([
      {
        rule: 'constraint-missing-not-valid',
        severity: 'error',
        file: 'migrations/007_x.sql',
        line: 2,
        col: 20,
        message:
          'ADD FOREIGN KEY on orders without NOT VALID checks every row while holding a lock that blocks writes',
        hint: 'Add it with NOT VALID (instant), then run `ALTER TABLE orders VALIDATE CONSTRAINT …` in a later migration: validating takes a lock that lets reads and writes go on.',
        classification: 'expand',
        table: 'orders',
      },
    ]);
    expect(r.classification).toBe('expand');
  });

  it('points at the DEFAULT clause of a volatile default, and names the function', async () => {
    const r = await pg(
      "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN t timestamptz DEFAULT clock_timestamp();\n",
    );
    expect(r.findings.map((f) => [f.rule, f.line, f.col, f.message])).toEqual([
      [
        'adding-field-with-volatile-default',
        2,
        45,
        'ADD COLUMN t on orders with DEFAULT clock_timestamp(): a volatile default is computed for every row, rewriting the table under an ACCESS EXCLUSIVE lock',
      ],
    ]);
  });

  it('classifies a contract migration and explains the expand/contract split', async () => {
    const r = await pg('ALTER TABLE orders RENAME COLUMN status TO state;\n');
    expect(r.classification).toBe('contract');
    expect(r.findings[0]).toMatchObject({
      rule: 'renaming-column',
      severity: 'warning',
      line: 1,
      col: 20,
      classification: 'contract',
      message: 'renaming orders.status to state is a contract change: the old release still queries status',
    });
  });
});

describe('severity by table size', () => {
  const text = "SET lock_timeout = '2s';\nCREATE INDEX orders_c_idx ON orders (c);\n";
  const sizes = (bytes: Record<string, number>) => ({
    bytes: sizeMap(Object.entries(bytes).map(([name, b]) => ({ schema: 'public', name, bytes: String(b) }))),
    thresholdBytes: parseSize('10MB')!,
  });

  it('is an error on a table at or above the threshold, a warning on a small, empty or new one', async () => {
    const big = await lintFile(
      { file: 'a.sql', text, dialect: 'postgres', transactional: true },
      sizes({ orders: 200 * 1024 ** 2 }),
    );
    expect(big.findings.map((f) => [f.rule, f.severity, f.sizeBytes])).toEqual([
      ['require-concurrent-index-creation', 'error', 200 * 1024 ** 2],
    ]);
    const empty = await lintFile(
      { file: 'a.sql', text, dialect: 'postgres', transactional: true },
      sizes({ orders: 8192 }),
    );
    expect(empty.findings.map((f) => [f.severity, f.sizeBytes])).toEqual([['warning', 8192]]);
    const absent = await lintFile(
      { file: 'a.sql', text, dialect: 'postgres', transactional: true },
      sizes({}),
    );
    expect(absent.findings.map((f) => f.severity)).toEqual(['warning']);
  });

  it('leaves rules that are not about table size alone', async () => {
    const r = await lintFile(
      { file: 'a.sql', text: 'DROP DATABASE shop;\n', dialect: 'postgres', transactional: true },
      sizes({}),
    );
    expect(r.findings.map((f) => f.severity)).toEqual(['error']);
  });

  it('parses sizes', () => {
    expect(parseSize('10MB')).toBe(10 * 1024 * 1024);
    expect(parseSize('512kB')).toBe(512 * 1024);
    expect(parseSize('1048576')).toBe(1048576);
    expect(parseSize('ten')).toBeNull();
  });
});

describe('directives and bad input', () => {
  it('rejects a lint-ignore without a reason or with an unknown rule, at its position (exit 2)', async () => {
    const err = await pg(
      'CREATE INDEX i ON t (c);\n  -- maint:lint-ignore require-concurrent-index-creation\n',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    expect((err as InputError).message).toBe(
      'migrations/007_x.sql:2:3: maint:lint-ignore require-concurrent-index-creation gives no reason',
    );
    const unknown = await pg('-- maint:lint-ignore no-such-rule because\nSELECT 1;\n').catch(
      (e: unknown) => e,
    );
    expect((unknown as InputError).message).toBe(
      'migrations/007_x.sql:1:1: maint:lint-ignore names an unknown rule "no-such-rule"',
    );
    expect((unknown as InputError).hint).toContain('-- maint:lint-ignore RULE reason');
  });

  it('reports a syntax error with file:line:col from the PostgreSQL parser (exit 2)', async () => {
    const err = await pg('SELECT 1;\nALTER TABLE orders ADDD COLUMN x int;\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).code).toBe('MIGRATION_SQL_INVALID');
    expect((err as InputError).message).toBe('migrations/007_x.sql:2:20: syntax error at or near "ADDD"');
  });
});

describe('rule registry and docs', () => {
  it('has a docs/lint.md entry for every rule, with its severity and classification', async () => {
    const doc = await readFile(path.resolve(import.meta.dirname, '../../docs/lint.md'), 'utf8');
    for (const id of RULE_IDS) {
      const rule = RULES[id];
      expect(doc, id).toContain(`### ${id}\n`);
      const section = doc.slice(doc.indexOf(`### ${id}\n`)).split('\n### ')[0]!;
      expect(section, id).toContain(`${rule.severity}`);
      expect(section, id).toContain(rule.classification);
    }
  });
});
