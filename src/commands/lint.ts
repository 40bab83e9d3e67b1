import path from 'node:path';
import { Flags } from '@oclif/core';
import { MaintCommand } from '../cli/base-command.js';
import { planArg } from '../cli/args.js';
import type { LintResult } from '../core/inspect/lint.js';
import { ExitCode, UsageError } from '../errors.js';
import { parseSize } from '../lint/size-sql.js';
import { toSarif } from '../lint/sarif.js';
import { loadPlan } from '../plan/loader.js';
import { bold, dim, green, red, yellow } from '../output/style.js';

export default class Lint extends MaintCommand<LintResult> {
  static override summary = 'Flag migrations that would block traffic or break the release still serving.';
  static override description =
    "Parses each pending migration (or all, with --all) with PostgreSQL's own parser (MySQL/MariaDB: a tokenizer) and reports " +
    'findings with rule, severity, file:line:col, message and the safe rewrite, and classifies each migration expand or contract. ' +
    'When the database is reachable, a finding on a table at or above --threshold is an error, on a smaller, empty or new table a warning; ' +
    '--offline lints every migration without connecting. Exit 0 without error-level findings, 7 otherwise. ' +
    'Suppress a finding with `-- maint:lint-ignore RULE reason` on its statement; override a classification with `-- maint:contract` or `-- maint:expand`. ' +
    'Rules: docs/lint.md.';
  static override examples = [
    '<%= config.bin %> lint plans/postgres.yaml',
    '<%= config.bin %> lint plans/postgres.yaml --offline --all',
    '<%= config.bin %> lint plans/postgres.yaml --format sarif > maint.sarif',
    '<%= config.bin %> lint plans/postgres.yaml --threshold 100MB --json',
  ];
  static override args = { plan: planArg };
  static override flags = {
    all: Flags.boolean({ description: 'Lint every migration, applied or not (default: the pending ones).' }),
    offline: Flags.boolean({
      description: 'Do not connect to the database: lint every migration, severities without table sizes.',
    }),
    format: Flags.string({
      description: 'Output format: text, or sarif (SARIF 2.1.0, for GitHub code scanning) on stdout.',
      options: ['text', 'sarif'],
      default: 'text',
    }),
    threshold: Flags.string({
      description:
        'Table size at or above which a locking or rewriting finding is an error (e.g. 10MB, 1GB).',
      default: '10MB',
    }),
  };

  private format = 'text';
  private planDir = '.';

  async execute(): Promise<LintResult> {
    const { args, flags } = await this.parse(Lint);
    const thresholdBytes = parseSize(flags.threshold);
    if (thresholdBytes === null)
      throw new UsageError(`--threshold ${flags.threshold} is not a size`, {
        hint: 'Give bytes with an optional unit: 10MB, 512kB, 1GB.',
      });
    this.format = flags.format;
    const loaded = await loadPlan(args.plan);
    this.planDir = loaded.dir;
    return this.core().lint(loaded, { all: flags.all, offline: flags.offline, thresholdBytes });
  }

  protected override exitCodeFor(r: LintResult): number {
    return r.errors > 0 ? ExitCode.gateRefused : ExitCode.ok;
  }

  protected override toSuccessJson(result: LintResult): unknown {
    return result;
  }

  protected renderHuman(r: LintResult): string {
    if (this.format === 'sarif')
      return JSON.stringify(
        toSarif(r.findings, {
          version: this.config.version,
          uriOf: (file) =>
            path.relative(process.cwd(), path.resolve(this.planDir, file)).split(path.sep).join('/'),
        }),
        null,
        2,
      );
    const lines: string[] = [];
    for (const f of r.files) {
      lines.push(
        `${bold(f.file)} ${dim(`${f.classification}${f.classifiedBy === 'override' ? ' (marked)' : ''}`)}`,
      );
      for (const x of f.findings) {
        const sev =
          x.severity === 'error' ? red('error') : x.severity === 'warning' ? yellow('warning') : dim('info');
        lines.push(
          `  ${x.file}:${x.line}:${x.col} ${sev} ${x.rule}: ${x.message}`,
          dim(`    fix: ${x.hint}`),
        );
      }
      for (const s of f.suppressed)
        lines.push(dim(`  ${s.file}:${s.line}:${s.col} ${s.rule} ignored: ${s.reason}`));
    }
    for (const s of r.skipped) lines.push(dim(`${s.file}: not linted (${s.reason})`));
    const scope = r.scope === 'pending' ? 'pending migration' : 'migration';
    const sizes =
      r.sizes === 'database' ? 'table sizes read from the database' : 'offline, without table sizes';
    lines.push(
      `${r.files.length} ${scope}${r.files.length === 1 ? '' : 's'} linted (${sizes}): ` +
        (r.errors > 0 ? red(`${r.errors} error(s)`) : green('0 errors')) +
        `, ${r.warnings} warning(s)`,
    );
    return lines.join('\n');
  }
}
