/**
 * The journal as a durable subscriber of the run's coded events: the run and every step
 * transition reach the journal before the run goes on (write-ahead), so a run that died can be
 * found and resumed or rolled back from what the events said.
 */
import type { AnyCoreEvent, DurableSubscriber } from '../events.js';
import type { Journal } from './journal.js';

export function journalSubscriber(journal: Journal): DurableSubscriber {
  return {
    async handle(event: AnyCoreEvent): Promise<void> {
      switch (event.code) {
        case 'run.started':
          await journal.ensure();
          await journal.insertRun(event.data.run);
          return;
        case 'run.updated':
          if (event.runId) await journal.updateRun(event.runId, event.data.patch);
          return;
        case 'state.set':
          if (event.runId) await journal.updateRun(event.runId, { state: event.data.state });
          return;
        case 'step.running':
        case 'step.done':
        case 'step.failed':
        case 'step.cancelled':
        case 'step.rolling_back':
        case 'step.rolled_back':
        case 'step.rollback_failed':
          await journal.putStep(event.data.step);
          return;
        default:
          return;
      }
    },
  };
}
