/**
 * Delivery of one event to the plan's channels. `deliver` is what the engine calls: it never
 * throws, and it never waits longer than each channel's timeout × attempts plus the backoff
 * between them, whatever a receiver does (refuse, answer 500, hang).
 */
import type { EventType, MaintenanceEvent } from '../core/maintenance-event.js';
import { MaintError } from '../errors.js';
import type { Logger } from '../support/logger.js';
import { redact } from '../support/redact.js';
import {
  ChannelGoneError,
  DeliveryError,
  type Channel,
  type DeliveryOutcome,
  type DeliveryPolicy,
} from './channel.js';

/** How long `deliver` waits between two attempts at one channel (p-retry's exponential backoff). */
export interface BackoffOptions {
  /** Wait before the first retry (before jitter). @default 250 */
  minMs: number;
  /** Longest wait between two attempts. @default 4000 */
  maxMs: number;
  /** Growth per retry. @default 2 */
  factor: number;
}

/** The backoff when the caller gives none. */
export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 250, maxMs: 4000, factor: 2 };
/** The policy of a channel that has none of its own. */
export const DEFAULT_POLICY: DeliveryPolicy = { timeoutMs: 5000, retries: 3 };

/** Options of one `deliver` call. */
export interface DeliverOptions {
  /** Outcomes are logged here (redacted). */
  logger?: Logger;
  /** @default DEFAULT_BACKOFF */
  backoff?: Partial<BackoffOptions>;
  /** Stops every delivery now (e.g. the process is shutting down); outcomes are still returned. */
  signal?: AbortSignal;
}

/**
 * The longest `deliver` can take for one channel: every attempt times out, and every wait takes
 * its jitter maximum (the `retry` module's jitter multiplies a wait by 1–2).
 */
export function deliveryBudgetMs(policy: DeliveryPolicy, backoff: Partial<BackoffOptions> = {}): number {
  const b = { ...DEFAULT_BACKOFF, ...backoff };
  let waits = 0;
  for (let i = 0; i < policy.retries; i++)
    waits += Math.min(b.maxMs, 2 * Math.max(b.minMs, 1) * b.factor ** i);
  return policy.timeoutMs * (policy.retries + 1) + waits;
}

// Per channel instance: a receiver that answered 410 is not called again by this process.
const disabled = new WeakSet<Channel>();

/** Whether `deliver` will skip this channel (it answered 410 Gone earlier in the run). */
export function isDisabled(channel: Channel): boolean {
  return disabled.has(channel);
}

/** Send one event to every channel in parallel; one outcome per channel, never a rejection. */
export async function deliver(
  channels: readonly Channel[],
  event: MaintenanceEvent,
  options: DeliverOptions = {},
): Promise<DeliveryOutcome[]> {
  const outcomes = await Promise.all(
    channels.map(async (channel) => {
      try {
        return await deliverOne(channel, event, options);
      } catch (error) {
        // deliverOne does not throw; this guards the promise "deliver never rejects" against bugs.
        return outcome(channel, event, { ok: false, attempts: 0, durationMs: 0, error: errorText(error) });
      }
    }),
  );
  for (const o of outcomes) log(options.logger, o);
  return outcomes;
}

function log(logger: Logger | undefined, o: DeliveryOutcome): void {
  if (!logger) return;
  const fields = {
    channel: o.channel,
    event: o.event,
    eventId: o.eventId,
    attempts: o.attempts,
    durationMs: o.durationMs,
    status: o.status,
  };
  if (o.skipped) logger.debug(`notify ${o.channel}: skipped (${o.skipped})`, fields);
  else if (o.ok) logger.info(`notify ${o.channel}: delivered ${o.event}`, fields);
  else logger.warn(`notify ${o.channel}: ${o.event} not delivered: ${o.error ?? 'unknown error'}`, fields);
}

function outcome(
  channel: Channel,
  event: MaintenanceEvent,
  rest: Omit<DeliveryOutcome, 'channel' | 'type' | 'event' | 'eventId'>,
): DeliveryOutcome {
  return { channel: channel.id, type: channel.type, event: event.type, eventId: event.id, ...rest };
}

function subscribed(policy: DeliveryPolicy, type: EventType): boolean {
  return !policy.events || policy.events.includes(type);
}

async function deliverOne(
  channel: Channel,
  event: MaintenanceEvent,
  options: DeliverOptions,
): Promise<DeliveryOutcome> {
  const policy = channel.delivery ?? DEFAULT_POLICY;
  if (!subscribed(policy, event.type))
    return outcome(channel, event, { ok: true, attempts: 0, durationMs: 0, skipped: 'not-subscribed' });
  if (disabled.has(channel))
    return outcome(channel, event, { ok: false, attempts: 0, durationMs: 0, skipped: 'disabled' });

  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const started = performance.now();
  let attempts = 0;
  let lastError: unknown;
  let status: number | undefined;
  const { default: pRetry } = await import('p-retry');
  try {
    const result = await pRetry(
      async (attempt) => {
        attempts = attempt;
        try {
          return await attemptOnce(channel, event, attempt, policy.timeoutMs, options.signal);
        } catch (error) {
          lastError = error;
          if (error instanceof DeliveryError && error.status !== undefined) status = error.status;
          // p-retry refuses to retry a plain TypeError; every failure here is a delivery failure.
          throw error instanceof Error && !(error instanceof TypeError)
            ? error
            : new DeliveryError(errorText(error), { cause: error });
        }
      },
      {
        retries: policy.retries,
        minTimeout: backoff.minMs,
        maxTimeout: backoff.maxMs,
        factor: backoff.factor,
        randomize: true,
        shouldRetry: (error) =>
          !(error instanceof DeliveryError && !error.retryable) && !options.signal?.aborted,
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    return outcome(channel, event, {
      ok: true,
      attempts,
      durationMs: Math.round(performance.now() - started),
      ...(result.status !== undefined ? { status: result.status } : {}),
    });
  } catch (error) {
    const failure = lastError ?? error;
    if (failure instanceof ChannelGoneError) disabled.add(channel);
    return outcome(channel, event, {
      ok: false,
      attempts,
      durationMs: Math.round(performance.now() - started),
      ...(status !== undefined ? { status } : {}),
      error: errorText(failure),
      ...(failure instanceof ChannelGoneError ? { skipped: 'disabled' as const } : {}),
    });
  }
}

/**
 * One attempt under its own timeout. The race makes the timeout hold even for a channel that
 * ignores its signal (a library that does not take one, a socket stuck in a handshake).
 */
async function attemptOnce(
  channel: Channel,
  event: MaintenanceEvent,
  attempt: number,
  timeoutMs: number,
  outer: AbortSignal | undefined,
): Promise<{ status?: number }> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DeliveryError(`timed out after ${timeoutMs} ms`)),
    timeoutMs,
  );
  const onOuter = () => controller.abort(new DeliveryError('delivery cancelled', { retryable: false }));
  outer?.addEventListener('abort', onOuter, { once: true });
  if (outer?.aborted) onOuter();
  const signal = controller.signal;
  try {
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    const send = channel.send(event, { signal, attempt });
    // A send that settles after the timeout must not become an unhandled rejection.
    send.catch(() => undefined);
    return await Promise.race([send, aborted]);
  } catch (error) {
    if (signal.aborted && signal.reason instanceof DeliveryError) throw signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuter);
  }
}

/** A failure as one redacted line, with the causes a library wraps (`fetch failed: connect ECONNREFUSED …`). */
export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return redact(String(error));
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    const message = current.message || current.name;
    // System error codes (ECONNREFUSED) help; our own MaintError codes would only repeat the message.
    const code = current instanceof MaintError ? undefined : (current as NodeJS.ErrnoException).code;
    const text = typeof code === 'string' && !message.includes(code) ? `${code} ${message}` : message;
    if (!parts.some((p) => p.includes(message))) parts.push(text);
    current = (current as { cause?: unknown }).cause;
  }
  return redact(parts.join(': '));
}
