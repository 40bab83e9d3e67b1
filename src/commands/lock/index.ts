import { MaintCommand } from '../../cli/base-command.js';
import { planArg } from '../../cli/args.js';
import type { LockReport } from '../../core/inspect/lock.js';
import { loadPlan } from '../../plan/loader.js';
import { bold, green, yellow } from '../../output/style.js';

export default class Lock extends MaintCommand<LockReport> {
  static override summary = 'Who holds the single-runner lock: host, pid, CI job or task, since when.';
  static override description =
    "Reports the live holder of the plan's session lock (checked against the server, so a dead holder is never shown) or that it is free.\n\n" +
    'Related: `maint lock release PLAN --lock-id ID` ends a holder whose heartbeat is stale (never a live one).';
  static override examples = [
    '<%= config.bin %> lock plans/postgres.yaml',
    '<%= config.bin %> lock plans/postgres.yaml --json',
  ];
  static override args = { plan: planArg };

  async execute(): Promise<LockReport> {
    const { args } = await this.parse(Lock);
    return this.core().lock(await loadPlan(args.plan));
  }

  protected override toSuccessJson(result: LockReport): unknown {
    return result;
  }

  protected renderHuman(r: LockReport): string {
    if (!r.holder) return `${green(bold('free'))}: nobody holds the lock for ${r.plan}`;
    const h = r.holder;
    const age =
      h.heartbeatAgeMs !== undefined
        ? `, last heartbeat ${Math.round(h.heartbeatAgeMs / 1000)} s ago${h.stale ? ' (stale)' : ''}`
        : '';
    return [
      `${yellow(bold('held'))}: ${r.plan} is locked by ${h.host} pid ${h.pid}${h.job ? ` (${h.job})` : ''}`,
      `  purpose ${h.purpose}, since ${h.since}${age}`,
      `  lock id ${h.lockId}`,
    ].join('\n');
  }
}
