/**
 * A signal that aborts when `signal` does or after `ms`, whichever comes first, and says which.
 *
 * Not `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: Node keeps the sources of an `any()`
 * signal only weakly, so a timeout signal nothing else references can be garbage-collected
 * before it fires, and the combined signal then never aborts (seen here: a 20 s bound that was
 * still waiting after 60 s, only when the process had allocated enough to collect). The timer
 * below is held by this object until `clear()`.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Whether the time ran out (not the outer signal). */
  timedOut(): boolean;
  /** Stop the timer; call it in a `finally`. */
  clear(): void;
}

export function deadline(ms: number, signal?: AbortSignal): Deadline {
  const timer = new AbortController();
  const handle = setTimeout(
    () => timer.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')),
    ms,
  );
  const combined = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
  return {
    signal: combined,
    timedOut: () => timer.signal.aborted,
    clear: () => clearTimeout(handle),
  };
}
