import { Args, Command } from '@oclif/core';

export default class Hello extends Command {
  static summary = 'Say hello (a trivial command for the start-up bench).';
  static examples = ['<%= config.bin %> hello plans/demo.yaml'];
  static args = { file: Args.string({ description: 'Ignored.', required: false }) };

  async run() {
    const { args } = await this.parse(Hello);
    this.log(`hello ${args.file ?? ''}`.trim());
  }
}
