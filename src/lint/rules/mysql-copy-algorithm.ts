import { alterTableName, tableAt } from '../mysql-tokens.js';
import type { MysqlRule } from '../types.js';

export const mysqlCopyAlgorithm = {
  dialect: 'mysql',
  summary: 'ALGORITHM=COPY or LOCK=SHARED/EXCLUSIVE makes the ALTER copy the table or block writes.',
  severity: 'error',
  classification: 'expand',
  sizeAware: true,
  squawk: null,
  check({ stmt, report }) {
    const name = alterTableName(stmt);
    if (name < 0) return;
    const t = stmt.tokens;
    for (let i = name; i < t.length; i++) {
      const key = t[i]!.upper;
      if ((key !== 'ALGORITHM' && key !== 'LOCK') || t[i]!.quoted) continue;
      const j = t[i + 1]?.upper === '=' ? i + 2 : i + 1;
      const value = t[j]?.upper ?? '';
      const bad = key === 'ALGORITHM' ? value === 'COPY' : value === 'SHARED' || value === 'EXCLUSIVE';
      if (!bad) continue;
      const table = tableAt(t, name);
      report({
        at: t[i]!.start,
        table,
        message:
          key === 'ALGORITHM'
            ? `ALGORITHM=COPY rebuilds ${table} into a copy while writes to it wait`
            : `LOCK=${value} blocks ${value === 'SHARED' ? 'writes to' : 'reads and writes of'} ${table} for the whole ALTER`,
        hint: 'Ask for ALGORITHM=INPLACE (or INSTANT), LOCK=NONE: the server then refuses an ALTER it cannot do online instead of blocking; for what cannot, use gh-ost or pt-online-schema-change.',
      });
    }
  },
} satisfies MysqlRule;
