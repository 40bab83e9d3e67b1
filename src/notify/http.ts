/** Shared by the HTTP channels: turn an answer into success, a retryable failure, or "gone". */
import { ChannelGoneError, DeliveryError, retryableStatus } from './channel.js';

export function checkStatus(status: number, statusText: string): { status: number } {
  if (status >= 200 && status < 300) return { status };
  if (status === 410) throw new ChannelGoneError('HTTP 410 Gone: the receiver asked for no more deliveries');
  throw new DeliveryError(`HTTP ${status}${statusText ? ` ${statusText}` : ''}`, {
    status,
    retryable: retryableStatus(status),
  });
}

/** Wrap a network failure (refused, reset, aborted) so its cause stays visible in the outcome. */
export function networkError(error: unknown): DeliveryError {
  if (error instanceof DeliveryError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new DeliveryError(message, { cause: error });
}
