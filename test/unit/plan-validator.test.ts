/**
 * Issue 14: the plan validator generated from the zod schema (src/generated/plan-validator.ts)
 * against zod itself. For every plan of the repository (plans/, templates/, test/fixtures/, the
 * YAML examples in docs/ and README) and for random mutations of the valid ones:
 * - `reject` exactly where zod rejects (unions and optional keys rely on it),
 * - an accepted plan deep-equal to `PlanSchema.parse` (key order included),
 * - no `bail` (zod decides): the generator checks the whole schema (UNCHECKED is empty),
 * and the generated secret walk finds what zod-introspect's walk finds.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PlanError } from '../../src/errors.js';
import { checkPlan, planSecrets, UNCHECKED } from '../../src/generated/plan-validator.js';
import { readPlanDocument } from '../../src/plan/document.js';
import { PlanSchema } from '../../src/plan/schema.js';
import { findSecretsBySchema, generateValidator } from '../../src/plan/validator-gen.js';
import { fixtureEnv } from '../fixtures/plans/cases.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function filesUnder(dir: string, test: (f: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      if (name === 'node_modules') continue;
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (test(full)) out.push(full);
    }
  };
  walk(path.join(REPO, dir));
  return out;
}

/** Every plan text of the repository, named by where it comes from. */
function repositoryPlans(): Array<{ name: string; text: string }> {
  const yaml = (f: string): boolean => /\.ya?ml$/.test(f);
  const files = [
    ...filesUnder('plans', yaml),
    ...filesUnder('templates', yaml),
    ...filesUnder('test/fixtures', yaml),
  ];
  const plans = files.map((f) => ({ name: path.relative(REPO, f), text: readFileSync(f, 'utf8') }));
  const docs = [...filesUnder('docs', (f) => f.endsWith('.md')), path.join(REPO, 'README.md')];
  for (const f of docs) {
    const md = readFileSync(f, 'utf8');
    let i = 0;
    for (const m of md.matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
      i++;
      // A whole plan, or a part of one (a `notify:` or `fleet:` example) put into a minimal plan.
      const text = /^version:/m.test(m[1]!) ? m[1]! : fragment(m[1]!);
      if (text) plans.push({ name: `${path.relative(REPO, f)}#${i}`, text });
    }
  }
  return plans;
}

const BASE: Record<string, string> = {
  version: '1',
  name: 'doc-example',
  window: '{ timezone: UTC, days: [sat], start: "02:00", duration: 2h }',
  database: '{ engine: pglite, url: "memory://" }',
};

/** A docs example that is a part of a plan, completed with the keys it lacks. */
function fragment(text: string): string | undefined {
  const keys = [...text.matchAll(/^([a-z]+):/gm)].map((m) => m[1]!);
  if (keys.length === 0) return undefined;
  const missing = Object.entries(BASE).filter(([k]) => !keys.includes(k));
  return `${missing.map(([k, v]) => `${k}: ${v}`).join('\n')}\n${text}`;
}

/** A value for every `${NAME}` of the text (the fixtures' own where they have them). */
function envFor(text: string): Record<string, string> {
  const env: Record<string, string> = { ...fixtureEnv };
  for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
    const name = m[1]!;
    if (env[name] !== undefined) continue;
    if (/URL/.test(name)) env[name] = 'postgres://app:secret-pw@127.0.0.1:5432/app';
    else if (/SECRET/.test(name)) env[name] = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    else env[name] = 'v1.2.3';
  }
  return env;
}

/** The document's data, or undefined when the YAML itself is refused (zod never sees it). */
function dataOf(text: string): unknown {
  try {
    const { data, envIssues } = readPlanDocument(text, 'plan.yaml', envFor(text));
    return envIssues.length > 0 ? undefined : data;
  } catch (error) {
    if (error instanceof PlanError) return undefined;
    throw error;
  }
}

type Verdict = 'accept' | 'reject' | 'bail';

/** Compare both paths on one document; the generated verdict. */
function compare(data: unknown, label: string): Verdict {
  const zod = PlanSchema.safeParse(structuredClone(data));
  const generated = checkPlan(structuredClone(data));
  if (generated === 'reject') {
    expect(zod.success, `${label}: generated rejects what zod accepts`).toBe(false);
    return 'reject';
  }
  if (generated === 'bail') return 'bail';
  expect(
    zod.success,
    `${label}: generated accepts what zod rejects: ${JSON.stringify(zod.error?.issues)}`,
  ).toBe(true);
  expect(generated.value, label).toStrictEqual(zod.data);
  expect(JSON.stringify(generated.value), `${label}: key order`).toBe(JSON.stringify(zod.data));
  expect(planSecrets(data), `${label}: secrets`).toEqual(findSecretsBySchema(data));
  return 'accept';
}

const FUZZ_RUNS = Number(process.env.MAINT_PLAN_FUZZ_RUNS ?? 500);
const plans = repositoryPlans();
const documents = plans
  .map((p) => ({ ...p, data: dataOf(p.text) }))
  .filter((p): p is { name: string; text: string; data: Record<string, unknown> } => p.data !== undefined);
describe('the generated plan validator', () => {
  it('is current: npm run build regenerates it from the schema', () => {
    const committed = readFileSync(path.join(REPO, 'src/generated/plan-validator.ts'), 'utf8');
    expect(
      generateValidator().code === committed,
      'src/generated/plan-validator.ts is stale: npm run build',
    ).toBe(true);
  });

  it('checks the whole schema: no part of it is left to zod (an inline refine would be)', () => {
    expect(UNCHECKED).toEqual([]);
  });

  it('decides every plan of the repository as zod does', () => {
    expect(plans.length).toBeGreaterThan(100);
    const verdicts: Record<Verdict, string[]> = { accept: [], reject: [], bail: [] };
    for (const p of documents) {
      const verdict = compare(p.data, p.name);
      verdicts[verdict].push(p.name);
      expect(verdict, `${p.name} bailed`).not.toBe('bail');
    }
    // The sample is real: valid plans of every kind, and invalid ones the schema refuses.
    expect(verdicts.accept.length).toBeGreaterThanOrEqual(10);
    expect(verdicts.reject.length).toBeGreaterThan(50);
    expect(verdicts.accept.filter((name) => name.includes('.md#')).length).toBeGreaterThanOrEqual(5);
    expect(verdicts.accept).toContain('plans/demo.yaml');
    expect(verdicts.accept).toContain('test/fixtures/plans/valid/clone-freeze.yaml');
  });

  it('finds the secrets zod-introspect finds, in every document (valid or not)', () => {
    for (const p of documents) expect(planSecrets(p.data), p.name).toEqual(findSecretsBySchema(p.data));
  });

  // Mutations of the valid plans: a value replaced (by one from a pool of near-valid values, or
  // by an arbitrary JSON value), a key removed, an unknown key added.
  const valid = documents.filter((p) => PlanSchema.safeParse(p.data).success);
  const pool = [
    '',
    ' ',
    '0s',
    '40m',
    '1h30m',
    '-5m',
    '0ms',
    '8 hours',
    '2d',
    '25h',
    '500ms',
    '00:00',
    '24:00',
    '21:00',
    'daily',
    'mon',
    'sun',
    'postgres',
    'mysql',
    'pglite',
    'memory://',
    'in-place',
    'clone-freeze',
    'logical',
    'https://hooks.example.com/x',
    ' https://a.example/ ',
    'http:example.com',
    'ftp://x.example',
    'smtps://u:p@m.example',
    'whsec_abc=',
    'whsec_',
    'UTC',
    'Europe/Paris',
    'US/Eastern',
    'Mars/Olympus',
    'unchanged',
    '>= 1',
    '>= x',
    '==',
    'sql',
    'command',
    'webhook',
    'slack',
    'email',
    'intercom',
    'status-page',
    'haproxy',
    'ecs',
    'rolling',
    'blue-green',
    'message',
    'event',
    'a',
    'abc',
    'a\u{1F600}',
    '\u{1F600}\u{1F600}',
    '/healthz',
    'healthz',
    0,
    1,
    -1,
    2,
    30,
    100,
    101,
    1.5,
    2 ** 53,
    true,
    false,
    null,
    [],
    {},
    ['mon'],
    ['daily'],
    ['mon', 'mon'],
    ['mon', 'tue'],
    ['daily', 'mon'],
    { kind: 'in-place' },
    { mode: 'stages' },
  ];
  const json = fc.jsonValue({ maxDepth: 2 });
  const replacement = fc.oneof(fc.constantFrom(...pool), json);

  type Mutation = { path: Array<string | number>; op: 'set' | 'delete' | 'add'; value: unknown; key: string };
  function paths(data: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
    const out: Array<Array<string | number>> = [prefix];
    if (Array.isArray(data)) data.forEach((v, i) => out.push(...paths(v, [...prefix, i])));
    else if (data && typeof data === 'object')
      for (const [k, v] of Object.entries(data)) out.push(...paths(v, [...prefix, k]));
    return out;
  }
  function apply(data: unknown, m: Mutation): unknown {
    const copy = structuredClone(data) as Record<string | number, unknown>;
    if (m.path.length === 0) return m.op === 'set' ? m.value : copy;
    let parent = copy as Record<string | number, unknown>;
    for (const p of m.path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
    const last = m.path[m.path.length - 1]!;
    if (m.op === 'set') parent[last] = m.value;
    else if (m.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else {
      const target = parent[last];
      if (target && typeof target === 'object' && !Array.isArray(target))
        (target as Record<string, unknown>)[m.key] = m.value;
      else parent[last] = m.value;
    }
    return copy;
  }

  it(
    'decides mutated plans as zod does (property test)',
    () => {
      expect(valid.length).toBeGreaterThan(10);
      const counts: Record<Verdict, number> = { accept: 0, reject: 0, bail: 0 };
      const arb = fc
        .record({
          plan: fc.integer({ min: 0, max: valid.length - 1 }),
          picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
          ops: fc.array(fc.constantFrom('set', 'set', 'delete', 'add'), { minLength: 3, maxLength: 3 }),
          values: fc.array(replacement, { minLength: 3, maxLength: 3 }),
          key: fc.constantFrom('extra', 'mode', 'url', 'timeout', 'kind', 'green', 'adminId', 'release'),
        })
        .map(({ plan, picks, ops, values, key }) => {
          let data: unknown = valid[plan]!.data;
          picks.forEach((pick, i) => {
            const all = paths(data);
            data = apply(data, { path: all[pick % all.length]!, op: ops[i]!, value: values[i], key });
          });
          return data;
        });
      fc.assert(
        fc.property(arb, (data) => {
          counts[compare(data, JSON.stringify(data).slice(0, 400))]++;
        }),
        // MAINT_PLAN_FUZZ_RUNS=20000 for a longer search (run once for this change: no counterexample).
        { numRuns: FUZZ_RUNS },
      );
      // Mutations reach both outcomes (the comparison is not vacuous).
      // (About 6 % of the mutated plans stay valid.)
      expect(counts.accept).toBeGreaterThan(FUZZ_RUNS / 50);
      expect(counts.reject).toBeGreaterThan(FUZZ_RUNS / 5);
    },
    Math.max(120_000, FUZZ_RUNS * 50),
  );
});
