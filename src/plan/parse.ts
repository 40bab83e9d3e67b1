/**
 * The zod path of plan loading: validate a plan document against the schema and map every
 * problem back to `file:line:col` and a key path. loader.ts takes it for any plan its generated
 * validator does not accept, so every error text and position comes from here.
 */
import { isMap, isScalar, isSeq, type Document } from 'yaml';
import type { z } from 'zod';
import { PlanError, type InputIssue } from '../errors.js';
import { ENV_HINT, formatPath, readPlanDocument, type At, type LoadOptions } from './document.js';
import { PlanSchema, type Plan } from './schema.js';
import { registerPlanSecrets } from './secrets.js';
import { describeZodIssue } from './zod-issues.js';

/** Parse and validate plan text; `file` is used in messages only. */
export function parsePlanText(text: string, file: string, options: LoadOptions = {}): Plan {
  const env = options.env ?? process.env;
  const { doc, at, envIssues, data } = readPlanDocument(text, file, env);
  const envPaths = new Set(envIssues.map((i) => i.path));

  // Before validation: an invalid secret must be masked in the error that reports it.
  registerPlanSecrets(data);
  const result = PlanSchema.safeParse(data);
  if (!result.success || envIssues.length > 0) {
    const schemaIssues = result.success
      ? []
      : result.error.issues
          .flatMap((issue) => positionIssue(issue, doc, file, at, data))
          // A value that is still `${NAME}` is already explained by its unset variable.
          .filter((i) => !envPaths.has(i.path));
    const issues = [...envIssues, ...schemaIssues];
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
    throw new PlanError(
      file,
      dedupe(dropExplainedMissing(issues)),
      envIssues.length > 0 && schemaIssues.length === 0 ? { hint: ENV_HINT } : {},
    );
  }
  return result.data;
}

/** The syntax node at a key path, the closest existing ancestor when the key is missing. */
function nodeAt(doc: Document, parts: ReadonlyArray<PropertyKey>): { node: unknown; exact: boolean } {
  let current: unknown = doc.contents;
  for (let i = 0; i < parts.length; i++) {
    const key = parts[i];
    let next: unknown;
    if (isMap(current)) {
      const pair = current.items.find((p) => isScalar(p.key) && p.key.value === key);
      next = pair?.value ?? (pair ? pair.key : undefined);
    } else if (isSeq(current) && typeof key === 'number') {
      next = current.items[key];
    }
    if (next === undefined || next === null) return { node: current, exact: false };
    current = next;
  }
  return { node: current, exact: true };
}

function keyNodeAt(doc: Document, parts: ReadonlyArray<PropertyKey>, key: string): unknown {
  const { node } = nodeAt(doc, parts);
  if (isMap(node)) return node.items.find((p) => isScalar(p.key) && p.key.value === key)?.key;
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | undefined)?.range?.[0];
}

function positionIssue(
  issue: z.core.$ZodIssue,
  doc: Document,
  file: string,
  at: At,
  data: unknown,
): InputIssue[] {
  const described = describeZodIssue(issue, PlanSchema, data);
  return described.map((d) => {
    let offset: number | undefined;
    if (d.key !== undefined) offset = rangeStart(keyNodeAt(doc, d.path, d.key));
    if (offset === undefined) offset = rangeStart(nodeAt(doc, d.path).node);
    const fullPath = d.key !== undefined ? [...d.path, d.key] : d.path;
    return { file, ...at(offset), path: formatPath(fullPath) || undefined, message: d.message };
  });
}

/**
 * A typo'd key also makes the intended key "missing"; the unknown-key message already names it
 * (did you mean …?), so the second report would only be noise.
 */
function dropExplainedMissing(issues: InputIssue[]): InputIssue[] {
  const suggested = new Set<string>();
  for (const i of issues) {
    const near = /did you mean "([^"]+)"/.exec(i.message)?.[1];
    if (near && i.message.startsWith('unknown key') && i.path) {
      const parent = i.path.includes('.') ? i.path.slice(0, i.path.lastIndexOf('.') + 1) : '';
      suggested.add(parent + near);
    }
  }
  return issues.filter(
    (i) => !(i.path && suggested.has(i.path) && i.message.startsWith('missing required key')),
  );
}

function dedupe(issues: InputIssue[]): InputIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.line}:${i.col}:${i.path}:${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
