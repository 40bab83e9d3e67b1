/**
 * Result shapes shared by the use cases. A use case returns its result with `error` set when it
 * did not end as asked; it never throws a result inside an exception. The `--json` contract
 * (docs/SPEC.md) is these objects serialised.
 */
import type { MaintError } from '../errors.js';
import type { Hint } from '../hints.js';
import { redact } from '../support/redact.js';
import { formatLocal, type WindowInstance } from '../window/window.js';

/**
 * An error as data. `next` is the hint with the maint commands to run as data; hosts render it
 * (the CLI adds `hint`, a sentence with command lines).
 */
export interface ErrorJson {
  code: string;
  message: string;
  exitCode: number;
  next: Hint | null;
  /** Rendered by the host that prints the result. */
  hint?: string | null;
  [detail: string]: unknown;
}

export function errorJson(error: MaintError): ErrorJson {
  return {
    ...(error.details ?? {}),
    code: error.code,
    message: redact(error.message),
    exitCode: error.exitCode,
    next: error.hintSpec ?? null,
  };
}

export interface WindowJson {
  start: string;
  end: string;
  startLocal: string;
  endLocal: string;
}

export function windowJson(w: WindowInstance, zone: string): WindowJson {
  return {
    start: w.start.toISOString(),
    end: w.end.toISOString(),
    startLocal: formatLocal(w.start, zone),
    endLocal: formatLocal(w.end, zone),
  };
}
