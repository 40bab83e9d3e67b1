/**
 * Human rendering of a run: a live step list on an interactive terminal (the running step
 * animates in place), plain lines otherwise (CI logs, pipes, NO_COLOR). Subscribes to the
 * engine's progress events; the engine never prints.
 */
import type { RunProgressEvent } from '../engine/events.js';
import type { RunResult } from '../engine/run.js';
import type { StepStatus } from '../engine/step.js';
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

export interface RunRenderer {
  onProgress(event: RunProgressEvent): void;
  stop(): void;
}

export function stepLine(e: Extract<RunProgressEvent, { type: 'step' }>): string | null {
  if (e.status === 'running') return null;
  const time = e.durationMs !== undefined ? dim(` ${formatDuration(e.durationMs)}`) : '';
  const message = e.message ? dim(`  ${e.message}`) : '';
  return `${MARK[e.status](bold(e.name))}${time}${message}`;
}

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

  return {
    onProgress(e) {
      if (e.type === 'notice') {
        print(e.level === 'warn' ? yellow(`! ${e.message}`) : dim(`  ${e.message}`));
      } else if (e.type === 'maintenance') {
        print(dim(`» ${e.event.type}: ${e.event.summary}`));
      } else if (e.status === 'running') {
        if (live) {
          running = {
            name: e.name,
            started: Date.now(),
            ...(e.estimateMs !== undefined ? { estimateMs: e.estimateMs } : {}),
          };
          spinner ??= setInterval(drawRunning, 100);
          spinner.unref?.();
          drawRunning();
        } else {
          stream.write(
            `… ${e.name}${e.estimateMs !== undefined ? ` (estimate ${formatDuration(e.estimateMs)})` : ''}\n`,
          );
        }
      } else {
        clearLine();
        if (running?.name === e.name) running = null;
        const line = stepLine(e);
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
  const failed = r.notifications.filter((n) => !n.ok && !n.skipped);
  if (r.notifications.length > 0)
    lines.push(dim(`notifications: ${r.notifications.length - failed.length} sent, ${failed.length} failed`));
  return lines.join('\n');
}
