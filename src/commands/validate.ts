import { Args } from '@oclif/core';
import { MaintCommand } from '../cli/base-command.js';
import { InputError, formatIssue, type InputIssue } from '../errors.js';
import { loadPlan } from '../plan/loader.js';
import { green, red } from '../output/style.js';

interface ValidateResult {
  results: Array<{ file: string; valid: boolean; name?: string; issues: InputIssue[] }>;
}

export default class Validate extends MaintCommand<ValidateResult> {
  static override summary = 'Check plan files against the schema; touches nothing.';
  static override description =
    'Reports every problem with file:line:col and the key path. Exits 2 when any file is invalid. ' +
    'No connection is opened; environment variables named as ${VAR} must be set.';
  static override examples = [
    '<%= config.bin %> validate plans/demo.yaml',
    '<%= config.bin %> validate plans/*.yaml --json',
  ];
  static override strict = false;
  static override args = { plan: Args.string({ description: 'Plan file(s) to check.', required: true }) };

  async execute(): Promise<ValidateResult> {
    const { argv } = await this.parse(Validate);
    const results: ValidateResult['results'] = [];
    const hints: string[] = [];
    for (const file of argv as string[]) {
      try {
        const loaded = await loadPlan(file);
        results.push({ file, valid: true, name: loaded.plan.name, issues: [] });
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        if (error.hint) hints.push(error.hint);
        results.push({
          file,
          valid: false,
          issues: error.issues.length ? error.issues : [{ file, message: error.message }],
        });
      }
    }
    const bad = results.filter((r) => !r.valid);
    if (bad.length > 0) {
      const issues = bad.flatMap((r) => r.issues);
      throw new InputError('PLAN_INVALID', issues.map(formatIssue).join('\n'), issues, {
        // One bad file: its own hint is the most specific (e.g. "create a plan with `maint init`").
        hint:
          bad.length === 1 && hints.length === 1
            ? hints[0]
            : 'Fix the positions listed; `maint schema` prints the full format.',
        details: { result: { results } },
      });
    }
    return { results };
  }

  protected renderHuman(r: ValidateResult): string {
    return r.results
      .map((x) => (x.valid ? `${green('✓')} ${x.file} (${x.name})` : `${red('✗')} ${x.file}`))
      .join('\n');
  }
}
