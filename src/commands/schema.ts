import { MaintCommand } from '../cli/base-command.js';
import { redactDeep } from '../support/redact.js';
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

  // The schema is a constant built from code, not user data: redacting it would only mangle
  // its examples (`smtps://user:pass@…`) and make plan.schema.json differ from planJsonSchema().
  override async run(): Promise<Record<string, unknown>> {
    const schema = await this.execute();
    if (!this.jsonEnabled()) process.stdout.write(this.renderHuman(schema) + '\n');
    return schema;
  }

  protected override logJson(json: unknown): void {
    const isError = typeof json === 'object' && json !== null && 'error' in json;
    process.stdout.write(JSON.stringify(isError ? redactDeep(json) : json, null, 2) + '\n');
  }

  protected renderHuman(schema: Record<string, unknown>): string {
    return JSON.stringify(schema, null, 2);
  }
}
