/**
 * Integrity checks: a query returning one value and an expectation (`unchanged`, an exact
 * value, or a comparison like ">= 1"). Evaluation is pure so it is tested without a database.
 */
import type { Queryable } from '../../db/database.js';
import type { CheckConfig } from '../../plan/schema.js';

export interface CheckOutcome {
  name: string;
  ok: boolean;
  actual: string | null;
  expected: string;
  before: string | null;
}

const COMPARISON = /^(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?)$/;

/** First column of the first row, as text (drivers disagree on bigint/number/Date types). */
export function scalarText(rows: Array<Record<string, unknown>>): string | null {
  const first = rows[0];
  if (!first) return null;
  const value = Object.values(first)[0];
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function evaluateCheck(
  expect: CheckConfig['expect'],
  actual: string | null,
  before: string | null,
): { ok: boolean; expected: string } {
  if (expect === 'unchanged') return { ok: actual === before, expected: `unchanged (${before ?? 'null'})` };
  if (typeof expect === 'number') {
    return {
      ok: actual !== null && actual.trim() !== '' && Number(actual) === expect,
      expected: String(expect),
    };
  }
  const m = COMPARISON.exec(expect.trim());
  if (m) {
    const limit = Number(m[2]);
    const n = actual === null || actual.trim() === '' ? NaN : Number(actual);
    if (Number.isNaN(n)) return { ok: false, expected: expect };
    const ok =
      m[1] === '>='
        ? n >= limit
        : m[1] === '<='
          ? n <= limit
          : m[1] === '>'
            ? n > limit
            : m[1] === '<'
              ? n < limit
              : m[1] === '=='
                ? n === limit
                : n !== limit;
    return { ok, expected: expect };
  }
  return { ok: actual === expect, expected: expect };
}

export async function readCheck(
  db: Queryable,
  check: CheckConfig,
  signal?: AbortSignal,
): Promise<string | null> {
  return scalarText(await db.query(check.sql, [], signal ? { signal } : {}));
}
