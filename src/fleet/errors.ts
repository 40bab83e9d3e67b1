/** Errors of the fleet roll; providers throw these, the step and the engine map them to exits. */
import { RolledBackError, MaintError, ExitCode, type MaintErrorOptions } from '../errors.js';
import type { StepDetail } from '../core/engine/step.js';

/**
 * The new release did not pass the gate (load balancer checks AND maint's probe) within
 * `healthTimeout`. The step rolls the fleet back; the run exits 5. `stepDetail` is journaled.
 */
export class FleetHealthError extends RolledBackError {
  constructor(
    message: string,
    readonly stepDetail: StepDetail = {},
    options: MaintErrorOptions = {},
  ) {
    super('FLEET_UNHEALTHY', message, options);
  }
}

/**
 * The load balancer or a start/stop/deploy command failed or did not reach the state asked
 * for (a write that does not read back, a drain past `drainTimeout`). The run rolls back.
 */
export class FleetError extends MaintError {
  constructor(
    code: string,
    message: string,
    readonly stepDetail: StepDetail = {},
    options: MaintErrorOptions = {},
  ) {
    super(code, ExitCode.rolledBack, message, options);
  }
}
