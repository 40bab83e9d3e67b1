import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planJsonSchema } from '../../src/plan/schema.js';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../plan.schema.json');
const committed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
const REGENERATE =
  'plan.schema.json is out of date with src/plan/schema*.ts: run `npm run schema:write` (after `npm run build`) and commit it';

/** Every sub-schema, with its JSON path. */
function* nodes(value: unknown, at = '#'): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield* nodes(v, `${at}/${i}`);
  } else if (value && typeof value === 'object') {
    yield [at, value as Record<string, unknown>];
    for (const [k, v] of Object.entries(value)) yield* nodes(v, `${at}/${k}`);
  }
}

describe('plan JSON Schema', () => {
  it('matches the committed plan.schema.json', () => {
    expect(planJsonSchema(), REGENERATE).toEqual(committed);
  });

  it('is draft-07', () => {
    expect(committed.$schema).toBe('http://json-schema.org/draft-07/schema#');
  });

  it('forbids unknown keys on every object, as the loader does', () => {
    const objects = [...nodes(committed)].filter(
      ([, n]) => n.type === 'object' && n.properties !== undefined,
    );
    expect(objects.length).toBeGreaterThan(15);
    const open = objects.filter(([, n]) => n.additionalProperties !== false).map(([at]) => at);
    expect(open).toEqual([]);
  });

  it('describes the top-level keys and requires the essential ones', () => {
    const properties = committed.properties as Record<string, { description?: string }>;
    expect(Object.keys(properties)).toEqual([
      'version',
      'name',
      'window',
      'estimate',
      'database',
      'migrations',
      'operations',
      'strategy',
      'release',
      'fleet',
      'post',
      'checks',
      'notify',
    ]);
    expect(committed.required).toEqual(expect.arrayContaining(['version', 'name', 'window', 'database']));
    expect(committed.required).not.toContain('migrations');
  });
});
