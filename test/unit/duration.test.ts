import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/plan/duration.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['40m', 2_400_000],
    ['8h', 28_800_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['2d', 172_800_000],
    ['1.5h', 5_400_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['-5m', '0s', '5', 'h', '5 m', '5y', ''])('rejects %j', (text) => {
    expect(parseDuration(text)).toHaveProperty('error');
  });

  it('formats back', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(86_400_000 + 61_000)).toBe('1d1m1s');
    expect(formatDuration(250)).toBe('250ms');
  });
});
