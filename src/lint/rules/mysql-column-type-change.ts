import { alterClauses, alterTableName, findWord, tableAt } from '../mysql-tokens.js';
import type { MysqlRule } from '../types.js';

export const mysqlColumnTypeChange = {
  dialect: 'mysql',
  summary:
    'MODIFY/CHANGE COLUMN that changes the type copies the whole table unless ALGORITHM=INPLACE/INSTANT is asked for.',
  severity: 'error',
  classification: 'expand',
  sizeAware: true,
  squawk: null,
  check({ stmt, report }) {
    const name = alterTableName(stmt);
    if (name < 0) return;
    const t = stmt.tokens;
    const algo = findWord(t, ['ALGORITHM'], name);
    const value = algo >= 0 ? (t[algo + 1]?.upper === '=' ? t[algo + 2] : t[algo + 1])?.upper : undefined;
    if (value === 'INPLACE' || value === 'INSTANT') return;
    const table = tableAt(t, name);
    for (const [from] of alterClauses(stmt, name)) {
      const word = t[from]?.upper;
      if (word !== 'MODIFY' && word !== 'CHANGE') continue;
      report({
        at: t[from]!.start,
        table,
        message: `${word} COLUMN on ${table} may change the column's type: MySQL then copies the table, blocking writes until it is done`,
        hint: 'Add `, ALGORITHM=INPLACE, LOCK=NONE` so the server refuses a change it cannot do online; for a real type change use gh-ost or pt-online-schema-change, or add a new column and backfill.',
      });
    }
  },
} satisfies MysqlRule;
