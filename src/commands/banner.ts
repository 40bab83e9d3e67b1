import { Flags } from '@oclif/core';
import { MaintCommand } from '../cli/base-command.js';
import { planArg } from '../cli/args.js';
import { BANNER_STATES, type BannerResult } from '../notify/banner.js';
import { loadPlan } from '../plan/loader.js';

export default class Banner extends MaintCommand<BannerResult> {
  static override summary = 'Write the banner file(s) for a state: planned, active or off.';
  static override description =
    "Writes the plan's notify.banner files (Jekyll YAML data file and/or JSON twin) atomically, for the current window or, when closed, the next one. " +
    '`maint run` does this itself (active at the start, off at the end); use this to announce ahead or to clear a banner by hand. See docs/banner.md.';
  static override examples = [
    '<%= config.bin %> banner plans/demo.yaml --state planned',
    '<%= config.bin %> banner plans/demo.yaml --state off --json',
  ];
  static override args = { plan: planArg };
  static override flags = {
    state: Flags.string({
      description: 'Banner state to write.',
      options: [...BANNER_STATES],
      required: true,
    }),
  };

  async execute(): Promise<BannerResult> {
    const { args, flags } = await this.parse(Banner);
    return this.core().banner(await loadPlan(args.plan), flags.state as (typeof BANNER_STATES)[number]);
  }

  protected override toSuccessJson(result: BannerResult): unknown {
    return result;
  }

  protected renderHuman(r: BannerResult): string {
    return r.files.map((f) => `banner ${r.state}: ${f.file} (${f.format})`).join('\n');
  }
}
