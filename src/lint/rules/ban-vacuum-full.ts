import { list, relName, unwrap } from '../pg-ast.js';
import type { PgRule } from '../types.js';
import { hasOption } from './helpers.js';

export const banVacuumFull = {
  dialect: 'postgres',
  summary: 'VACUUM FULL rewrites each table under an ACCESS EXCLUSIVE lock.',
  severity: 'error',
  classification: 'expand',
  sizeAware: true,
  squawk: null,
  nodes: ['VacuumStmt'],
  check({ node, report }) {
    const full = hasOption(node, 'options', 'full');
    if (!full || !node.is_vacuumcmd) return;
    const tables = list(node.rels).map((r) => relName(unwrap(r)?.[1].relation) ?? '?');
    report({
      at: Number(full.location),
      table: tables[0],
      message: `VACUUM FULL rewrites ${tables.length > 0 ? tables.join(', ') : 'every table of the database'} while reads and writes wait`,
      hint: 'Use plain VACUUM (it does not block), or pg_repack / pg_squeeze to reclaim space online.',
    });
  },
} satisfies PgRule;
