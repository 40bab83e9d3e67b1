import { describe, expect, it } from 'vitest';
import { QUERY_CHARS, describeBlockers, maskQuery } from '../../src/migrations/blockers.js';

describe('blockers: how a session holding the lock is shown', () => {
  it('masks string literals, dollar quotes and numbers, keeps identifiers, folds whitespace', () => {
    expect(maskQuery("update users\n   set note = 'hunter2', n = 42 where id = 7")).toBe(
      'update users set note = ?, n = ? where id = ?',
    );
    expect(maskQuery("alter user app password 'hunter2'")).not.toContain('hunter2');
    expect(maskQuery("select 'it''s' as a, $tag$ secret $tag$ as b, $$x$$ from t2")).toBe(
      'select ? as a, ? as b, ? from t2',
    );
  });

  it('cuts a long statement at the limit, with an ellipsis', () => {
    const masked = maskQuery(`select ${'col_a, '.repeat(100)}col_b from t`);
    expect(masked).toHaveLength(QUERY_CHARS);
    expect(masked.endsWith('…')).toBe(true);
  });

  it('names each blocker in one sentence, and says when none was found', () => {
    expect(
      describeBlockers([
        {
          pid: 41,
          application: 'orders-report',
          client: '10.0.0.5',
          state: 'idle in transaction',
          transactionAgeMs: 12_000,
          query: 'select count(*) from hot',
        },
        { pid: 7, application: null, client: null, state: 'Sleep', transactionAgeMs: null, query: null },
      ]),
    ).toBe(
      'held by pid 41 ("orders-report", 10.0.0.5, idle in transaction, transaction open 12s): `select count(*) from hot`; pid 7 (Sleep)',
    );
    expect(describeBlockers([])).toBe(
      'no session older than the lock timeout was found holding a table lock',
    );
  });
});
