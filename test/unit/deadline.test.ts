import { describe, expect, it } from 'vitest';
import { deadline } from '../../src/support/deadline.js';

const aborted = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));

describe('deadline', () => {
  it('aborts when the time runs out, and says so', async () => {
    const d = deadline(20);
    const reason = await aborted(d.signal);
    expect(d.timedOut()).toBe(true);
    expect((reason as Error).name).toBe('TimeoutError');
    d.clear();
  });

  it('aborts with the outer signal first, which is not a timeout', async () => {
    const outer = new AbortController();
    const d = deadline(60_000, outer.signal);
    const reason = aborted(d.signal);
    outer.abort(new Error('stop'));
    expect(((await reason) as Error).message).toBe('stop');
    expect(d.timedOut()).toBe(false);
    d.clear();
  });

  it('never aborts once cleared', async () => {
    const d = deadline(10);
    d.clear();
    await new Promise((r) => setTimeout(r, 40));
    expect(d.signal.aborted).toBe(false);
  });
});
