/** Acceptance 4: `--format sarif` output validates against the SARIF 2.1.0 JSON Schema. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ajvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { lintFiles } from '../../src/lint/lint.js';
import { RULE_IDS } from '../../src/lint/rules/index.js';
import { toSarif } from '../../src/lint/sarif.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');

async function validator() {
  const schema = JSON.parse(await readFile(path.join(FIXTURES, 'sarif/sarif-2.1.0-rtm.5.json'), 'utf8'));
  // The schema's `language` pattern has a stray `]` that only non-unicode RegExps accept.
  const Ajv = ajvDraft04.default;
  const addFormats = ajvFormats.default;
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe('SARIF output', () => {
  it('validates against the SARIF 2.1.0 schema, with one result per finding at its exact region', async () => {
    const names = [
      'pg/051-several-commands.sql',
      'pg/044-mixed.sql',
      'mysql/002-lock-shared.sql',
      'pg/023-no-lock-timeout.sql',
    ];
    const files = await Promise.all(
      names.map(async (n) => ({
        file: `migrations/${n}`,
        text: await readFile(path.join(FIXTURES, 'lint', n), 'utf8'),
        dialect: n.startsWith('mysql') ? ('mysql' as const) : ('postgres' as const),
        transactional: true,
      })),
    );
    const report = await lintFiles(files);
    const sarif = toSarif(report.findings, { version: '0.1.0', uriOf: (f) => `db/${f}` });
    const validate = await validator();
    const ok = validate(sarif);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);

    interface Result {
      ruleId: string;
      ruleIndex: number;
      level: string;
      locations: Array<{ physicalLocation: unknown }>;
    }
    const run = (
      sarif.runs as Array<{ tool: { driver: { rules: Array<{ id: string }> } }; results: Result[] }>
    )[0]!;
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual([...RULE_IDS]);
    expect(run.results).toHaveLength(report.findings.length);
    const typeChange = run.results.find((r) => r.ruleId === 'changing-column-type')!;
    expect(typeChange.locations[0]!.physicalLocation).toEqual({
      artifactLocation: { uri: 'db/migrations/pg/051-several-commands.sql' },
      region: { startLine: 4, startColumn: 3 },
    });
    expect(typeChange.level).toBe('error');
    expect(run.results.find((r) => r.ruleId === 'require-lock-timeout')!.level).toBe('note');
    expect(run.tool.driver.rules[typeChange.ruleIndex]!.id).toBe('changing-column-type');
  });

  it('the schema check can fail: a result without a message is rejected', async () => {
    const validate = await validator();
    const bad = {
      version: '2.1.0',
      runs: [{ tool: { driver: { name: 'maint' } }, results: [{ ruleId: 'x', level: 'fatal' }] }],
    };
    expect(validate(bad)).toBe(false);
  });
});
