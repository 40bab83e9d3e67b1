import { Args, Flags } from '@oclif/core';
import path from 'node:path';
import { MaintCommand } from '../cli/base-command.js';
import { green } from '../output/style.js';
import type { InitResult } from '../plan/init.js';
import { invocation } from '../cli/invocation.js';

export default class Init extends MaintCommand<InitResult> {
  static override summary = 'Scaffold a plan, a migrations folder and message templates.';
  static override description =
    'Writes maint.yaml (a commented plan), migrations/001_example.sql with its .down.sql, and templates/ ' +
    'for email and Slack messages. The plan uses the embedded pglite engine unless --engine says otherwise, ' +
    'so it runs with nothing installed. Existing files are never replaced without --force.';
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init ops/maintenance --name orders-v2 --engine postgres',
    '<%= config.bin %> init . --force --json',
  ];
  static override args = {
    dir: Args.string({ description: 'Folder to scaffold into (created when missing).', default: '.' }),
  };
  static override flags = {
    engine: Flags.string({
      description: 'Database engine of the plan.',
      options: ['pglite', 'postgres', 'mysql'],
      default: 'pglite',
    }),
    name: Flags.string({
      description: 'Plan name (lowercase letters, digits, dashes); default: the folder name.',
    }),
    timezone: Flags.string({ description: "IANA zone of the window; default: this machine's zone." }),
    force: Flags.boolean({ description: 'Replace files that already exist.', default: false }),
  };

  async execute(): Promise<InitResult> {
    const { args, flags } = await this.parse(Init);
    // Loaded here, not at the top: only `init` needs the scaffolding code.
    const { initProject } = await import('../plan/init.js');
    return initProject({
      dir: args.dir,
      engine: flags.engine as 'pglite' | 'postgres' | 'mysql',
      name: flags.name,
      timezone: flags.timezone,
      force: flags.force,
    });
  }

  protected renderHuman(r: InitResult): string {
    const relative = path.relative(process.cwd(), r.plan);
    const where = relative && !relative.startsWith('..') ? relative : r.plan;
    // Lines to paste into a shell: quote a path with spaces or shell characters.
    const rel = /^[\w./-]+$/.test(where) ? where : `'${where.replace(/'/g, `'\\''`)}'`;
    const maint = invocation();
    const lines = r.files.map((f) => `  ${green('+')} ${f}${r.overwritten.includes(f) ? ' (replaced)' : ''}`);
    return [
      `scaffolded plan "${r.name}" (${r.engine}, ${r.timezone}) in ${r.dir}:`,
      ...lines,
      '',
      'next:',
      `  ${maint} validate ${rel}`,
      `  ${maint} window ${rel}`,
      `  ${maint} plan ${rel}`,
    ].join('\n');
  }
}
