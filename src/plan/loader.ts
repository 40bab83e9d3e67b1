/**
 * Strict plan loading. Reads the file, parses YAML 1.2 with positions, fills `${VAR}` from the
 * environment and validates against the schema; every problem maps back to `file:line:col` and a
 * key path. Nothing here opens a connection: a plan is valid before anything is touched.
 *
 * A valid plan is checked by the validator generated from the schema at build time
 * (src/generated/plan-validator.ts), without loading zod; anything it does not accept goes
 * through the zod path (parse.ts), which gives every error text and position.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { PlanError } from '../errors.js';
import { validatePlan } from '../generated/plan-validator.js';
import { readPlanDocument, type LoadOptions } from './document.js';
import type { Plan } from './schema.js';
import { registerPlanSecrets } from './secrets.js';

/** A plan file larger than this is not a plan. */
const MAX_BYTES = 1024 * 1024;

export type { LoadOptions };

export interface LoadedPlan {
  plan: Plan;
  /** The plan file as the user gave it: what messages and hints show. */
  path: string;
  /** The same file, absolute. */
  file: string;
  /** The plan's folder: relative paths in the plan resolve from it. */
  dir: string;
}

export async function loadPlan(file: string, options: LoadOptions = {}): Promise<LoadedPlan> {
  const text = await readPlanText(file);
  const plan =
    validPlan(text, file, options) ?? (await import('./parse.js')).parsePlanText(text, file, options);
  const absolute = path.resolve(file);
  return { plan, path: file, file: absolute, dir: path.dirname(absolute) };
}

async function readPlanText(file: string): Promise<string> {
  const fail = (message: string, hint?: string): never => {
    throw new PlanError(file, [{ file, message }], hint ? { hint } : {});
  };
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('no such file', 'Check the path, or create a plan with `maint init`.');
    if (code === 'EACCES') return fail('permission denied reading the plan file');
    return fail(`cannot read the plan file (${code ?? String(error)})`);
  }
  if (info.isDirectory())
    return fail('is a directory, not a plan file', 'Name the plan file itself, e.g. plans/demo.yaml.');
  if (!info.isFile()) return fail('is not a regular file');
  if (info.size > MAX_BYTES) return fail(`is ${info.size} bytes; a plan file is at most ${MAX_BYTES} bytes`);
  const bytes = await readFile(file);
  if (bytes.includes(0)) return fail('is not a text file (it contains NUL bytes)');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('is not valid UTF-8 text');
  }
  return text.replace(/^\uFEFF/, '');
}

/**
 * The plan, when the generated validator accepts it (what zod would return); undefined when the
 * zod path must decide. YAML problems throw here exactly as on the zod path (same code).
 */
function validPlan(text: string, file: string, options: LoadOptions): Plan | undefined {
  const { envIssues, data } = readPlanDocument(text, file, options.env ?? process.env);
  if (envIssues.length > 0) return undefined;
  // As on the zod path, before validation.
  registerPlanSecrets(data);
  return validatePlan(data);
}
