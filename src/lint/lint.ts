/**
 * The lint core: lints migration files in order and sums up. Used by `maint lint`, `maint plan`
 * and `maint gate`; `maint run` can journal `suppressed`.
 */
import type { FileInput, FileLint, TableSizes } from './lint-file.js';
import { lintFile } from './lint-file.js';
import type { Finding } from './types.js';

export interface LintReport {
  files: FileLint[];
  findings: Finding[];
  errors: number;
  warnings: number;
  /** Whether table sizes were read (severity by size) or the lint ran offline. */
  sizes: 'database' | 'offline';
}

export async function lintFiles(files: FileInput[], sizes?: TableSizes): Promise<LintReport> {
  const out: FileLint[] = [];
  for (const f of files) out.push(await lintFile(f, sizes));
  const findings = out.flatMap((f) => f.findings);
  return {
    files: out,
    findings,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    sizes: sizes ? 'database' : 'offline',
  };
}

export type { FileInput, FileLint, TableSizes };
