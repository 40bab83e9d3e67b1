/**
 * Acceptance 1: the corpus in test/fixtures/lint/ (one migration per file, expected findings as
 * data in expected.json) lints exactly as expected, positions included; every rule has at least
 * one positive and one negative case there.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Dialect } from '../../src/db/database.js';
import { lintFile } from '../../src/lint/lint-file.js';
import { RULE_IDS, RULES } from '../../src/lint/rules/index.js';
import { isNoTransaction } from '../../src/migrations/split.js';

const DIR = path.resolve(import.meta.dirname, '../fixtures/lint');

interface Expected {
  dialect: Dialect;
  classification: 'expand' | 'contract';
  /** `line:col severity rule` */
  findings: string[];
  /** `line:col rule` */
  suppressed: string[];
  /** Rules this file is the negative case of: it looks like their target and must not be flagged. */
  negativeFor: string[];
}

const expected = JSON.parse(await readFile(path.join(DIR, 'expected.json'), 'utf8')) as Record<
  string,
  Expected
>;
const names = Object.keys(expected);

describe('lint corpus', () => {
  it('has at least 60 migration files', () => {
    expect(names.length).toBeGreaterThanOrEqual(60);
  });

  it.each(names)('%s', async (name) => {
    const e = expected[name]!;
    const text = await readFile(path.join(DIR, name), 'utf8');
    const r = await lintFile({ file: name, text, dialect: e.dialect, transactional: !isNoTransaction(text) });
    expect(r.findings.map((f) => `${f.line}:${f.col} ${f.severity} ${f.rule}`)).toEqual(e.findings);
    expect(r.suppressed.map((s) => `${s.line}:${s.col} ${s.rule}`)).toEqual(e.suppressed);
    expect(r.classification).toBe(e.classification);
    for (const f of r.findings) {
      expect(f.file).toBe(name);
      expect(f.message.length).toBeGreaterThan(10);
      expect(f.hint.length).toBeGreaterThan(10);
    }
  });

  it('has a positive and a negative case for every rule', () => {
    const all = Object.values(expected);
    for (const id of RULE_IDS) {
      const rule = RULES[id];
      const positive = all.filter(
        (e) => e.findings.some((f) => f.endsWith(` ${id}`)) || e.suppressed.some((s) => s.endsWith(` ${id}`)),
      );
      const negative = all.filter(
        (e) =>
          e.negativeFor.includes(id) &&
          (rule.dialect === 'any' || e.dialect === rule.dialect) &&
          !e.findings.some((f) => f.endsWith(` ${id}`)) &&
          !e.suppressed.some((s) => s.endsWith(` ${id}`)),
      );
      expect(positive.length, `${id}: positive cases`).toBeGreaterThan(0);
      expect(negative.length, `${id}: negative cases`).toBeGreaterThan(0);
    }
  });
});
