import { alterClauses, alterTableName, findWord, tableAt } from '../mysql-tokens.js';
import type { MysqlRule } from '../types.js';

const INDEX_WORDS = ['INDEX', 'KEY', 'UNIQUE', 'FULLTEXT', 'SPATIAL'];

export const mysqlAddIndex = {
  dialect: 'mysql',
  summary:
    'Adding an index without LOCK=NONE may block writes (FULLTEXT, SPATIAL, or where online DDL is not possible).',
  severity: 'error',
  classification: 'expand',
  sizeAware: true,
  squawk: null,
  check({ stmt, statements, report }) {
    const t = stmt.tokens;
    const lockNone = (): boolean => {
      const i = findWord(t, ['LOCK']);
      return i >= 0 && (t[i + 1]?.upper === '=' ? t[i + 2] : t[i + 1])?.upper === 'NONE';
    };
    const created = (table: string): boolean =>
      statements.some(
        (s) =>
          s.index < stmt.index &&
          s.tokens[0]?.upper === 'CREATE' &&
          findWord(s.tokens, ['TABLE']) >= 0 &&
          s.tokens.some(
            (x, k) => k > 0 && s.tokens[k - 1]!.upper === 'TABLE' && x.upper.toLowerCase() === table,
          ),
      );
    const flag = (at: number, table: string): void =>
      report({
        at,
        table,
        message: `adding an index to ${table} without LOCK=NONE: where MySQL cannot build it online it blocks writes to ${table} until it is built`,
        hint: 'Add `, ALGORITHM=INPLACE, LOCK=NONE` so the server builds it online or refuses; FULLTEXT and SPATIAL indexes cannot be built online, use gh-ost for them.',
      });
    if (t[0]?.upper === 'CREATE') {
      // CREATE [UNIQUE|FULLTEXT|SPATIAL] INDEX name ON table …
      const idx = findWord(t, ['INDEX']);
      if (idx < 1 || idx > 2) return;
      const on = findWord(t, ['ON'], idx);
      if (on < 0 || lockNone()) return;
      const table = tableAt(t, on + 1);
      if (!created(table)) flag(t[0].start, table);
      return;
    }
    const name = alterTableName(stmt);
    if (name < 0 || lockNone()) return;
    const table = tableAt(t, name);
    if (created(table)) return;
    for (const [from] of alterClauses(stmt, name)) {
      if (t[from]?.upper !== 'ADD') continue;
      let k = from + 1;
      if (t[k]?.upper === 'CONSTRAINT') k += t[k + 1] && !INDEX_WORDS.includes(t[k + 1]!.upper) ? 2 : 1;
      if (INDEX_WORDS.includes(t[k]?.upper ?? '')) flag(t[from]!.start, table);
    }
  },
} satisfies MysqlRule;
