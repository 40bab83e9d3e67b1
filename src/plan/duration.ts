/** Durations in plans: `90s`, `40m`, `8h`, `1h30m`, `500ms`, `2d`. */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ms|s|m|h|d))+$';
const WHOLE = new RegExp(DURATION_PATTERN);

/** Parse a duration to milliseconds, or return an explanation of what is wrong. */
export function parseDuration(text: string): number | { error: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith('-')) return { error: `duration "${text}" is negative; durations must be positive` };
  if (!WHOLE.test(trimmed)) {
    return {
      error: `"${text}" is not a duration; write it like 90s, 40m, 8h or 1h30m (units ms, s, m, h, d)`,
    };
  }
  let total = 0;
  for (const match of trimmed.matchAll(PART)) {
    total += Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  if (total <= 0) return { error: `duration "${text}" is zero; it must be longer than that` };
  return Math.round(total);
}

/** `5400000` → `1h30m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  let rest = Math.round(ms / 1000);
  const d = Math.floor(rest / 86_400);
  rest -= d * 86_400;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`, s && `${s}s`].filter(Boolean);
  return parts.join('') || '0s';
}
