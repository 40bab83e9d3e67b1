/**
 * Human rendering of a run: a live step list on an interactive terminal (the running step
 * animates in place), plain lines otherwise (CI logs, pipes, NO_COLOR). A sink of the core's
 * coded events; the core never prints.
 */
import type { StepStatus } from '../core/engine/step.js';
import type { AnyCoreEvent, EventSink } from '../core/events.js';
import type { RunResult } from '../core/run/run.js';
import { formatDuration } from '../plan/duration.js';
import { bold, cyan, dim, green, red, yellow, liveOutput } from './style.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

const MARK: Record<StepStatus, (text: string) => string> = {
  pending: (t) => dim(`· ${t}`),
  running: (t) => cyan(`… ${t}`),
  done: (t) => `${green('✓')} ${t}`,
  failed: (t) => `${red('✗')} ${t}`,
  cancelled: (t) => `${red('✗')} ${t} ${red('cancelled')}`,
  skipped: (t) => dim(`- ${t} skipped`),
  rolling_back: (t) => yellow(`↺ ${t} rolling back`),
  rolled_back: (t) => `${yellow('↺')} ${t} rolled back`,
  rollback_failed: (t) => `${red('✗')} ${t} ${red('rollback failed')}`,
};

export interface RunRenderer extends EventSink {
  /** Whether this renderer shows the event (the host logs the others). */
  shows(event: AnyCoreEvent): boolean;
  stop(): void;
}

/** A step transition as one line; `message` is what the step said (its summary or error). */
export function stepLine(e: {
  name: string;
  status: StepStatus;
  durationMs?: number;
  message?: string;
}): string | null {
  if (e.status === 'running') return null;
  const time = e.durationMs !== undefined ? dim(` ${formatDuration(e.durationMs)}`) : '';
  const message = e.message ? dim(`  ${e.message}`) : '';
  return `${MARK[e.status](bold(e.name))}${time}${message}`;
}

/** Lines of progress shown under the running step. */
const NOTICES = new Set<AnyCoreEvent['code']>([
  'step.progress',
  'migration.migrated',
  'migration.reverted',
  'migration.retrying',
  'run.recovering',
  'run.clock_skew',
  'notification.failed',
]);

export function createRunRenderer(
  stream: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean } = process.stdout,
): RunRenderer {
  const live = liveOutput(stream);
  let spinner: ReturnType<typeof setInterval> | undefined;
  let running: { name: string; estimateMs?: number; started: number } | null = null;
  let frame = 0;

  const clearLine = () => {
    if (live && running) stream.write('\r\u001b[2K');
  };
  const drawRunning = () => {
    if (!live || !running) return;
    const elapsed = formatDuration(Date.now() - running.started);
    const estimate = running.estimateMs !== undefined ? ` / est ${formatDuration(running.estimateMs)}` : '';
    stream.write(
      `\r\u001b[2K${cyan(FRAMES[frame++ % FRAMES.length]!)} ${bold(running.name)} ${dim(`${elapsed}${estimate}`)}`,
    );
  };
  const print = (line: string) => {
    clearLine();
    stream.write(line + '\n');
    drawRunning();
  };

  // Migration starts are claimed and not shown: the step line already says what runs.
  const showsEvent = (e: AnyCoreEvent) =>
    e.code.startsWith('step.') ||
    e.code.startsWith('migration.') ||
    e.code === 'maintenance' ||
    NOTICES.has(e.code);
  return {
    shows: showsEvent,
    emit(e) {
      if (e.code === 'maintenance') {
        print(dim(`» ${e.data.event.type}: ${e.data.event.summary}`));
      } else if (e.code === 'step.progress' || NOTICES.has(e.code)) {
        print(e.level === 'warn' || e.level === 'error' ? yellow(`! ${e.message}`) : dim(`  ${e.message}`));
      } else if (e.code === 'step.running') {
        const { step, estimateMs } = e.data;
        if (live) {
          running = { name: step.name, started: Date.now(), estimateMs };
          spinner ??= setInterval(drawRunning, 100);
          spinner.unref?.();
          drawRunning();
        } else {
          stream.write(`… ${step.name} (estimate ${formatDuration(estimateMs)})\n`);
        }
      } else if (e.code.startsWith('step.') && 'step' in e.data) {
        const { step } = e.data;
        clearLine();
        if (running?.name === step.name) running = null;
        // A rollback shows how long undoing took; a failed rollback shows why.
        const undoing = step.status === 'rolling_back' || step.status === 'rolled_back';
        const durationMs =
          step.status === 'rolled_back'
            ? step.rollbackMs
            : undoing || step.status === 'rollback_failed'
              ? null
              : step.durationMs;
        const said = e.message !== step.name && !undoing;
        const line = stepLine({
          name: step.name,
          status: step.status,
          ...(durationMs !== null && durationMs !== undefined ? { durationMs } : {}),
          ...(said ? { message: e.message } : {}),
        });
        if (line) stream.write(line + '\n');
        drawRunning();
      }
    },
    stop() {
      if (spinner) clearInterval(spinner);
      clearLine();
      running = null;
    },
  };
}

/** The closing lines of a successful run (errors are rendered by the command base). */
export function renderRunSummary(r: RunResult): string {
  const lines: string[] = [];
  if (r.recovered)
    lines.push(
      `${r.recovered.action === 'resumed' ? 'resumed' : 'rolled back'} ${r.recovered.runId}: ${r.recovered.reason}`,
    );
  if (r.status === 'nothing_pending') {
    lines.push(
      `${green(bold('nothing is pending'))}: every migration of ${r.plan} is applied; nothing was changed.`,
    );
    return lines.join('\n');
  }
  const total = r.steps.reduce((s, x) => s + (x.durationMs ?? 0), 0);
  lines.push(
    `${green(bold('completed'))} ${r.plan} (${r.runId}) in ${formatDuration(total)}${r.applied.length > 0 ? `: applied ${r.applied.join(', ')}` : ''}`,
  );
  if (r.emergency) lines.push(yellow(`emergency run: ${r.emergency.reason}`));
  if (r.guard?.override)
    lines.push(
      yellow(
        `forced rollback to ${r.guard.target}: ${r.guard.override.reason} (refused: ${r.guard.override.refused})`,
      ),
    );
  const failed = r.notifications.filter((n) => !n.ok && !n.skipped);
  if (r.notifications.length > 0)
    lines.push(dim(`notifications: ${r.notifications.length - failed.length} sent, ${failed.length} failed`));
  return lines.join('\n');
}
