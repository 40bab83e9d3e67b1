/**
 * Result shapes shared by the use cases. A use case returns its result with `error` set when it
 * did not end as asked; it never throws a result inside an exception. The `--json` contract
 * (docs/SPEC.md) is these objects serialised.
 */
import type { MaintError } from '../errors.js';
import type { Hint } from '../hints.js';
import { redact } from '../support/redact.js';

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

/**
 * One window in JSON output: the one shape every command uses. Its renderer (window/report.ts)
 * needs the zone math (luxon), which `migrate`, `gate` and `validate` never load: a type only.
 */
export type { WindowJson } from '../window/report.js';
