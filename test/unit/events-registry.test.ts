import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENTS } from '../../src/core/events.js';

describe('the coded-event registry', () => {
  it('documents every code in docs/events.md, and no code that does not exist', () => {
    const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `([a-z_.]+)` +\| (\w+) +\|/gm)].map((m) => [m[1], m[2]]);
    expect(documented).toEqual(Object.entries(EVENTS).map(([code, spec]) => [code, spec.level]));
  });
});
