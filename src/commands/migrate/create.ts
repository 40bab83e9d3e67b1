import { Args } from '@oclif/core';
import { MaintCommand } from '../../cli/base-command.js';
import { planArg } from '../../cli/args.js';
import { loadPlan } from '../../plan/loader.js';
import type { CreatedMigration } from '../../core/migrate/migrate.js';

export default class MigrateCreate extends MaintCommand<CreatedMigration> {
  static override summary = 'Create the next numbered migration (an empty .sql and .down.sql).';
  static override description =
    "Writes NNN_NAME.sql and NNN_NAME.down.sql in the plan's migrations folder, numbered after the last one. Touches no database.";
  static override examples = ['<%= config.bin %> migrate create plans/demo.yaml add_orders_status'];
  static override args = {
    plan: planArg,
    name: Args.string({ description: 'Migration name: letters, digits, _ and -.', required: true }),
  };

  async execute(): Promise<CreatedMigration> {
    const { args } = await this.parse(MigrateCreate);
    return this.core().createMigration(await loadPlan(args.plan), args.name);
  }

  protected override toSuccessJson(result: CreatedMigration): unknown {
    return result;
  }

  protected renderHuman(r: CreatedMigration): string {
    return ['created', ...r.files.map((f) => `  ${f}`)].join('\n');
  }
}
