/**
 * Runs an operation's shell command: `/bin/sh -c` in its own process group, stdout and stderr
 * captured interleaved (the tail only), the whole group killed on timeout or abort (SIGTERM,
 * then SIGKILL after a grace). The output it returns is redacted. Independent of the engine.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { redact, redactCutStart } from '../support/redact.js';

export interface RunCommandOptions {
  command: string;
  cwd: string;
  /** The complete environment of the command. */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Aborting kills the command's process group, as a timeout does. */
  signal?: AbortSignal;
  /** Keep the last this many bytes of output. @default 64 KiB */
  maxOutputBytes?: number;
  /** Between SIGTERM and SIGKILL. @default 5000 */
  killGraceMs?: number;
}

export interface CommandResult {
  /** Null when the shell was ended by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved, redacted; the tail only when `truncatedBytes` > 0. */
  output: string;
  /** Bytes of earlier output that were not kept. */
  truncatedBytes: number;
  durationMs: number;
  timedOut: boolean;
  aborted: boolean;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
/** How long to wait for the pipes to close once the shell has exited (a background child may keep them). */
const CLOSE_WAIT_MS = 2000;

export function runCommand(options: RunCommandOptions): Promise<CommandResult> {
  const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const grace = options.killGraceMs ?? 5000;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      resolve({
        exitCode: null,
        signal: null,
        output: '',
        truncatedBytes: 0,
        durationMs: 0,
        timedOut: false,
        aborted: true,
      });
      return;
    }
    const child = spawn('/bin/sh', ['-c', options.command], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail = new OutputTail(max);
    child.stdout.on('data', (chunk: Buffer) => tail.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => tail.push(chunk));

    let timedOut = false;
    let aborted = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];

    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // The group is gone already.
      }
    };
    const terminate = (): void => {
      killGroup('SIGTERM');
      // Also after the shell exits: a child ignoring SIGTERM keeps the group (and the pipes) alive.
      timers.push(setTimeout(() => killGroup('SIGKILL'), grace));
    };
    const onAbort = (): void => {
      if (exit || timedOut || aborted) return;
      aborted = true;
      terminate();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(
      setTimeout(() => {
        if (exit || aborted) return;
        timedOut = true;
        terminate();
      }, options.timeoutMs),
    );

    const finish = (): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener('abort', onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      const { output, truncatedBytes } = tail.text();
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        output,
        truncatedBytes,
        durationMs: Math.round(performance.now() - started),
        timedOut,
        aborted,
      });
    };

    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Normally 'close' follows at once; a background process holding the pipes must not hang us.
      const wait = timedOut || aborted ? grace + CLOSE_WAIT_MS : CLOSE_WAIT_MS;
      const t = setTimeout(finish, wait);
      t.unref();
      timers.push(t);
    });
    child.on('close', (code, signal) => {
      exit ??= { code, signal };
      finish();
    });
  });
}

/** The last `capacity` bytes written, and how many were dropped before them. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;

  constructor(private readonly capacity: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.capacity && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const excess = this.size - this.capacity;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
        this.dropped += excess;
      }
    }
  }

  /**
   * Redacted text of the kept bytes. Redaction runs on the whole kept buffer (a secret split
   * across chunks is whole there); when output was dropped, the end of a secret the cut left at
   * the start is masked too, and the first, partial line is dropped.
   */
  text(): { output: string; truncatedBytes: number } {
    const raw = Buffer.concat(this.chunks).toString('utf8');
    let text = redact(this.dropped > 0 ? redactCutStart(raw) : raw);
    let truncatedBytes = this.dropped;
    if (this.dropped > 0) {
      const newline = text.indexOf('\n');
      if (newline >= 0 && newline < text.length - 1) {
        truncatedBytes += Buffer.byteLength(text.slice(0, newline + 1));
        text = text.slice(newline + 1);
      }
    }
    return {
      output: truncatedBytes > 0 ? `[… ${truncatedBytes} bytes of earlier output not kept]\n${text}` : text,
      truncatedBytes,
    };
  }
}
