import { alterClauses, alterTableName, findWord, tableAt } from '../mysql-tokens.js';
import type { MysqlRule } from '../types.js';

const NOT_A_COLUMN = ['INDEX', 'KEY', 'FOREIGN', 'PRIMARY', 'CONSTRAINT', 'CHECK', 'PARTITION', 'UNIQUE'];

export const mysqlDropOrRename = {
  dialect: 'mysql',
  summary: 'Dropping or renaming a table or column breaks the release still serving.',
  severity: 'warning',
  classification: 'contract',
  sizeAware: false,
  squawk: null,
  check({ stmt, report }) {
    const t = stmt.tokens;
    const flag = (at: number, what: string, table?: string): void =>
      report({
        at,
        table,
        message: `${what} is a contract change: the old release may still use it`,
        hint: 'Stop using it in the new release first; maint runs this migration only once the fleet serves that release.',
      });
    const first = t[0]?.upper;
    if (
      first === 'DROP' &&
      (t[1]?.upper === 'TABLE' || (t[1]?.upper === 'TEMPORARY' && t[2]?.upper === 'TABLE'))
    ) {
      const i = findWord(t, ['TABLE']) + (t[findWord(t, ['TABLE']) + 1]?.upper === 'IF' ? 3 : 1);
      flag(t[0]!.start, `dropping table ${t[i] ? tableAt(t, i) : '?'}`, t[i] ? tableAt(t, i) : undefined);
      return;
    }
    if (first === 'RENAME' && t[1]?.upper === 'TABLE') {
      flag(t[0]!.start, `renaming table ${t[2] ? tableAt(t, 2) : '?'}`, t[2] ? tableAt(t, 2) : undefined);
      return;
    }
    const name = alterTableName(stmt);
    if (name < 0) return;
    const table = tableAt(t, name);
    for (const [from, to] of alterClauses(stmt, name)) {
      const word = t[from]?.upper;
      const next = t[from + 1]?.upper ?? '';
      if (word === 'DROP' && !NOT_A_COLUMN.includes(next)) {
        const col = next === 'COLUMN' ? t[from + 2] : t[from + 1];
        flag(t[from]!.start, `dropping ${table}.${col?.upper.toLowerCase() ?? '?'}`, table);
      } else if (word === 'RENAME' && findWord(t.slice(from, to), ['INDEX', 'KEY']) === -1) {
        flag(
          t[from]!.start,
          next === 'COLUMN' ? `renaming a column of ${table}` : `renaming table ${table}`,
          table,
        );
      } else if (word === 'CHANGE') {
        const i = next === 'COLUMN' ? from + 2 : from + 1;
        if (t[i] && t[i + 1] && t[i]!.upper !== t[i + 1]!.upper)
          flag(
            t[from]!.start,
            `renaming ${table}.${t[i]!.upper.toLowerCase()} to ${t[i + 1]!.upper.toLowerCase()}`,
            table,
          );
      }
    }
  },
} satisfies MysqlRule;
