/**
 * SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer): one run, the rules that exist,
 * one result per finding with its exact region.
 */
import { RULE_IDS, RULES } from './rules/index.js';
import type { Finding, Rule, Severity } from './types.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  error: 'error',
  warning: 'warning',
  info: 'note',
};

export interface SarifOptions {
  version: string;
  /** The artifact URI of a finding's file (relative to the repository root for GitHub). */
  uriOf(file: string): string;
}

export function toSarif(findings: readonly Finding[], options: SarifOptions): Record<string, unknown> {
  const index = new Map<string, number>(RULE_IDS.map((id, i) => [id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'maint',
            semanticVersion: options.version,
            rules: RULE_IDS.map((id) => {
              const rule = RULES[id] as Rule;
              return {
                id,
                name: id,
                shortDescription: { text: rule.summary },
                help: { text: `docs/lint.md#${id}` },
                defaultConfiguration: { level: LEVEL[rule.severity] },
                properties: { classification: rule.classification, sizeAware: rule.sizeAware },
              };
            }),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: index.get(f.rule),
          level: LEVEL[f.severity],
          message: { text: `${f.message}. ${f.hint}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: options.uriOf(f.file) },
                region: { startLine: f.line, startColumn: f.col },
              },
            },
          ],
          properties: {
            classification: f.classification,
            hint: f.hint,
            ...(f.table ? { table: f.table } : {}),
          },
        })),
      },
    ],
  };
}
