/**
 * The plan schema's own rules (refinements, cross-field checks, the duration transform) as
 * plain functions, without zod. schema*.ts attach them to the zod schema; the validator
 * generated from that schema at build time (src/generated/plan-validator.ts, see
 * validator-gen.ts) calls the very same functions, so each rule is written once. Nothing here
 * may import zod: this module is on the start-up path of every plan-reading command.
 */
import { formatDuration, parseDuration } from './duration.js';

/** A problem a rule found: where (relative to the value it checked) and what. */
export interface RuleIssue {
  path: PropertyKey[];
  message: string;
}

/** What a transform rule makes of its input: the output, or why there is none. */
export type TransformResult<T> = { value: T } | { error: string };

export const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type DayName = (typeof DAY_NAMES)[number];
export const ENGINES = ['postgres', 'mysql', 'pglite'] as const;
export const STRATEGY_KINDS = ['in-place', 'clone-freeze'] as const;

/** A duration string (`40m`, `1h30m`) to milliseconds. */
export function durationToMs(text: string): TransformResult<number> {
  const parsed = parseDuration(text);
  return typeof parsed === 'number' ? { value: parsed } : parsed;
}

/**
 * Intl knows the same zone database luxon reads; asking it directly keeps luxon (a window-math
 * dependency) off the path of commands that only validate plans.
 */
export function isIanaZone(zone: string): boolean {
  // The list of canonical zones costs ~2 ms; the first DateTimeFormat ~15 ms of ICU set-up, which
  // `migrate` and `validate` need for nothing else. Aliases (US/Eastern) and other spellings the
  // runtime accepts are not in the list: they take the DateTimeFormat path, as before.
  if (Intl.supportedValuesOf?.('timeZone').includes(zone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone }).format(0);
    return true;
  } catch {
    return false;
  }
}

export function daysListedOnce(days: readonly string[]): boolean {
  return new Set(days).size === days.length;
}

export function dailyStandsAlone(days: readonly string[]): boolean {
  return !days.includes('daily') || days.length === 1;
}

/** Overlapping windows would make "the current window" ambiguous; refuse them. */
export function windowsDoNotOverlap(w: { days: readonly string[]; duration: number }): RuleIssue[] {
  const gapMs = minimalGapMs(w.days);
  if (w.duration <= gapMs) return [];
  return [
    {
      path: ['duration'],
      message: `a ${hours(w.duration)} window is longer than the ${hours(gapMs)} between two window starts, so windows would overlap; shorten the duration or start on fewer days`,
    },
  ];
}

/** `30h` reads better than `1d6h` when comparing against a gap of whole days. */
function hours(ms: number): string {
  const h = ms / 3_600_000;
  return Number.isInteger(h) ? `${h}h` : formatDuration(ms);
}

/** Smallest gap between two consecutive start days, in ms (ignoring DST). */
function minimalGapMs(days: readonly string[]): number {
  if (days.includes('daily')) return 86_400_000;
  // Duplicates are reported on their own; they must not look like a zero-hour gap.
  const idx = [...new Set(days.map((d) => DAY_NAMES.indexOf(d as DayName)))].sort((a, b) => a - b);
  if (idx.length <= 1) return 7 * 86_400_000;
  let gap = 7;
  for (let i = 0; i < idx.length; i++) {
    const next = i + 1 < idx.length ? idx[i + 1]! : idx[0]! + 7;
    gap = Math.min(gap, next - idx[i]!);
  }
  return gap * 86_400_000;
}

/** Which clone methods suit a clone URL's engine (rds-* work for both). */
const METHODS_BY_SCHEME: Record<'postgres' | 'mysql', readonly string[]> = {
  postgres: ['logical', 'dump', 'template', 'rds-snapshot', 'rds-blue-green'],
  mysql: ['dump', 'replica', 'rds-snapshot', 'rds-blue-green'],
};

export function cloneFreezeRules(c: {
  clone: { method: string; url?: string | undefined; rds?: unknown };
  freeze: { grace: number; maxDuration: number };
}): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const scheme = /^(postgres|postgresql|mysql|mariadb):\/\//.exec(c.clone.url ?? '')?.[1];
  const engine = scheme === undefined ? undefined : scheme.startsWith('postgres') ? 'postgres' : 'mysql';
  if (engine && !METHODS_BY_SCHEME[engine].includes(c.clone.method))
    issues.push({
      path: ['clone', 'method'],
      message: `method ${c.clone.method} does not clone a ${engine === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB'} database; use one of ${METHODS_BY_SCHEME[engine].join(', ')}`,
    });
  const rdsMethod = c.clone.method.startsWith('rds-');
  if (rdsMethod && !c.clone.rds)
    issues.push({
      path: ['clone', 'method'],
      message: `method ${c.clone.method} needs clone.rds.instance: the DB instance identifier of the live database`,
    });
  if (!rdsMethod && c.clone.rds)
    issues.push({
      path: ['clone', 'rds'],
      message: `clone.rds is for the rds-blue-green and rds-snapshot methods, not ${c.clone.method}`,
    });
  if (rdsMethod && c.clone.url)
    issues.push({
      path: ['clone', 'url'],
      message:
        c.clone.method === 'rds-blue-green'
          ? 'rds-blue-green keeps the database URL: after the switchover the same endpoint names the migrated (green) instance; remove clone.url'
          : 'rds-snapshot restores to a new instance whose endpoint RDS names; remove clone.url',
    });
  if (c.freeze.grace >= c.freeze.maxDuration)
    issues.push({
      path: ['freeze', 'grace'],
      message: `grace (${formatDuration(c.freeze.grace)}) must be shorter than maxDuration (${formatDuration(c.freeze.maxDuration)})`,
    });
  return issues;
}

const COMPARISON = /^(>=|<=|==|!=|>|<)\s*-?\d+(\.\d+)?$/;

/** A value that starts like a comparison but is not one is a typo, not an exact value. */
export function isComparisonIfItLooksLikeOne(s: string): boolean {
  return !/^(>=|<=|==|!=|>|<)/.test(s) || COMPARISON.test(s);
}

export function operationNamesUnique(ops: ReadonlyArray<{ name: string }>): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const first = new Map<string, number>();
  ops.forEach((op, i) => {
    const seen = first.get(op.name);
    if (seen === undefined) {
      first.set(op.name, i);
      return;
    }
    issues.push({
      path: [i, 'name'],
      message: `operation name "${op.name}" is already used by operations[${seen}]; give each operation its own name`,
    });
  });
  return issues;
}

export function intercomRules(c: { mode: string; adminId?: string | undefined }): RuleIssue[] {
  if (c.mode === 'message' && c.adminId === undefined) {
    return [{ path: ['adminId'], message: 'mode: message needs adminId (the Intercom admin who sends it)' }];
  }
  return [];
}

export function haproxyRules(f: {
  mode: string;
  green?: readonly string[] | undefined;
  servers?: readonly string[] | undefined;
}): RuleIssue[] {
  const issues: RuleIssue[] = [];
  if (f.mode === 'blue-green' && !f.green) {
    issues.push({
      path: ['green'],
      message: 'blue-green needs `green:`, the servers the new release starts on (e.g. green: [web4, web5])',
    });
  }
  if (f.mode === 'rolling' && f.green) {
    issues.push({
      path: ['green'],
      message: '`green` is for mode: blue-green; remove it or set mode: blue-green',
    });
  }
  const dup = (f.servers ?? []).find((s) => f.green?.includes(s));
  if (dup) {
    issues.push({
      path: ['green'],
      message: `"${dup}" is in both servers and green; a server is either blue or green`,
    });
  }
  return issues;
}

export function ecsRules(f: {
  mode: string;
  taskDefinition?: string | undefined;
  listenerRuleArn?: string | undefined;
  greenService?: string | undefined;
  greenTargetGroupArn?: string | undefined;
}): RuleIssue[] {
  const issues: RuleIssue[] = [];
  if (!f.taskDefinition) {
    issues.push({
      path: ['taskDefinition'],
      message:
        "the ecs provider needs `taskDefinition`, the release's task definition (family:revision or ARN)",
    });
  }
  if (f.mode !== 'blue-green') return issues;
  for (const key of ['listenerRuleArn', 'greenService', 'greenTargetGroupArn'] as const) {
    if (!f[key]) issues.push({ path: [key], message: `blue-green on ecs needs \`${key}\`` });
  }
  return issues;
}

export function planRules(plan: { fleet?: unknown; release?: string | undefined }): RuleIssue[] {
  if (plan.fleet && !plan.release) {
    return [
      {
        path: ['fleet'],
        message:
          'a fleet roll needs the release it rolls out: add `release: ${RELEASE}` (an image tag or git sha)',
      },
    ];
  }
  return [];
}

/** RDS takes a blue/green switchover timeout from 30 s to 1 h. */
export function rdsSwitchoverTimeoutInRange(r: { switchoverTimeout: number }): RuleIssue[] {
  return r.switchoverTimeout < 30_000 || r.switchoverTimeout > 3_600_000
    ? [{ path: ['switchoverTimeout'], message: 'RDS accepts a switchover timeout from 30s to 1h' }]
    : [];
}
