import { Flags } from '@oclif/core';
import { MaintCommand } from '../../cli/base-command.js';
import { planArg } from '../../cli/args.js';
import type { ReleaseReport } from '../../core/inspect/lock.js';
import { loadPlan } from '../../plan/loader.js';

export default class LockRelease extends MaintCommand<ReleaseReport> {
  static override summary = "End a lock holder's session when it is provably dead (stale heartbeat).";
  static override description =
    'Terminates the database session of the holder with this lock id, but only when its heartbeat is stale (a frozen or cut-off ' +
    'process). A live holder is refused (exit 4). Find the lock id with `maint lock PLAN`.';
  static override examples = ['<%= config.bin %> lock release plans/postgres.yaml --lock-id 3f9a0c12b4e1'];
  static override args = { plan: planArg };
  static override flags = {
    'lock-id': Flags.string({
      description: "The holder's lock id, as shown by `maint lock`.",
      required: true,
    }),
  };

  async execute(): Promise<ReleaseReport> {
    const { args, flags } = await this.parse(LockRelease);
    return this.core().releaseLock(await loadPlan(args.plan), flags['lock-id']);
  }

  protected override toSuccessJson(result: ReleaseReport): unknown {
    return result;
  }

  protected renderHuman(r: ReleaseReport): string {
    return `released the lock for ${r.plan} (lock id ${r.lockId})`;
  }
}
