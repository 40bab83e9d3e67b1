import { MaintCommand } from '../cli/base-command.js';
import { planArg } from '../cli/args.js';
import type { GateResult } from '../core/inspect/gate.js';
import { ExitCode } from '../errors.js';
import { loadPlan } from '../plan/loader.js';
import { green, red } from '../output/style.js';

export default class Gate extends MaintCommand<GateResult> {
  static override summary =
    'CI gate: may a deploy proceed now? Exit 0 allowed, 7 refused (with a reason code).';
  static override description =
    'Refuses (exit 7) while a run is in progress, interrupted or failed without being settled (RUN_FAILED: an exit-6 run; `maint run` settles it), while the lock is held, when an applied migration was edited since (MIGRATION_CHANGED: `maint migrate accept` after a review, or restore the file), when a pending migration has an error-level `maint lint` finding (UNSAFE_MIGRATION), when the plan rolls a fleet and the expand/contract guard refuses (CONTRACT_WHILE_OLD_RELEASE_SERVES: a contract migration pending while an older release serves; ROLLBACK_PAST_CONTRACT: returning to a release older than a contract migration; see docs/fleet.md), and when migrations are ' +
    'pending but the window is closed (the deploy would change the database outside its window). A closed window alone does not refuse: ' +
    'a deploy with nothing pending changes only the application. The JSON has `allowed` and a stable `reason` code.';
  static override examples = [
    '<%= config.bin %> gate plans/postgres.yaml',
    '<%= config.bin %> gate plans/postgres.yaml --json || echo "deploy blocked"',
  ];
  static override args = { plan: planArg };

  async execute(): Promise<GateResult> {
    const { args } = await this.parse(Gate);
    return this.core().gate(await loadPlan(args.plan));
  }

  protected override exitCodeFor(r: GateResult): number {
    return r.allowed ? ExitCode.ok : ExitCode.gateRefused;
  }

  protected override toSuccessJson(result: GateResult): unknown {
    return result;
  }

  protected renderHuman(r: GateResult): string {
    return r.allowed ? `${green('allowed')}: ${r.message}` : `${red('refused')} (${r.reason}): ${r.message}`;
  }
}
