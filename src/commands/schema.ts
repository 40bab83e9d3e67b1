import { MaintCommand } from '../cli/base-command.js';
import { planJsonSchema } from '../plan/schema.js';

export default class Schema extends MaintCommand<Record<string, unknown>> {
  static override summary = 'Print the plan JSON Schema (draft-07), for editors and CI.';
  static override description =
    'The schema is generated from the same definition maint validates with, so it never drifts. ' +
    'Point your editor at it (e.g. `# yaml-language-server: $schema=./plan.schema.json`).';
  static override examples = ['<%= config.bin %> schema > plan.schema.json'];

  async execute(): Promise<Record<string, unknown>> {
    await this.parse(Schema);
    return planJsonSchema();
  }

  protected renderHuman(schema: Record<string, unknown>): string {
    return JSON.stringify(schema, null, 2);
  }
}
