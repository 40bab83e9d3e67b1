import { afterEach, describe, expect, it } from 'vitest';
import { PlanError } from '../../src/errors.js';
import { clearSecrets, redact } from '../../src/support/redact.js';
import { parsePlanText } from '../../src/plan/parse.js';
import { findSecrets } from '../../src/plan/secrets.js';

const CANARY = 'canary7f3a9c2e51';
const head = `version: 1
name: secrets
window: { timezone: UTC, days: [daily], start: "00:00", duration: 2h }
`;

describe('plan secrets', () => {
  afterEach(() => clearSecrets());

  it('finds every secret field the schema marks, with its kind', () => {
    const found = findSecrets({
      database: {
        engine: 'postgres',
        url: `postgres://app:${CANARY}@db.internal/app`,
        lockUrl: 'postgres://app:lock-pass@db/app',
      },
      notify: {
        channels: [
          { type: 'webhook', url: `https://hooks.example.com/${CANARY}`, secret: `whsec_${CANARY}` },
          { type: 'slack', url: 'https://hooks.slack.com/services/T/B/X' },
          { type: 'email', smtp: 'smtps://u:smtp-pass@mail.example.com', from: 'a@b.c', to: ['d@e.f'] },
          { type: 'intercom', token: 'tok_1234567890', userIds: ['u1'] },
        ],
      },
    });
    expect(found).toEqual([
      { value: `postgres://app:${CANARY}@db.internal/app`, kind: 'credentials' },
      { value: 'postgres://app:lock-pass@db/app', kind: 'credentials' },
      { value: `https://hooks.example.com/${CANARY}`, kind: 'value' },
      { value: `whsec_${CANARY}`, kind: 'value' },
      { value: 'https://hooks.slack.com/services/T/B/X', kind: 'value' },
      { value: 'smtps://u:smtp-pass@mail.example.com', kind: 'credentials' },
      { value: 'tok_1234567890', kind: 'value' },
    ]);
  });

  it("finds every value of a command operation's env, and nothing else of an operation", () => {
    const found = findSecrets({
      operations: [
        { name: 'a', kind: 'sql', run: 'select 1' },
        { name: 'b', kind: 'command', run: './b.sh', env: { TOKEN: CANARY, OTHER: 'other-secret' } },
      ],
    });
    expect(found).toEqual([
      { value: CANARY, kind: 'value' },
      { value: 'other-secret', kind: 'value' },
    ]);
  });

  it('masks a secret in the very error that rejects it', () => {
    const text = `${head}database: { engine: pglite, url: "memory://" }
notify:
  channels:
    - { type: webhook, url: "https://hooks.example.com/x", secret: "not-a-whsec-${CANARY}" }
`;
    let error: unknown;
    try {
      parsePlanText(text, 'plan.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PlanError);
    const message = (error as PlanError).message;
    expect(message).toContain('notify.channels[0].secret');
    expect(redact(message)).not.toContain(CANARY);
    expect(redact(JSON.stringify((error as PlanError).issues))).not.toContain(CANARY);
  });

  it('keeps a database URL readable but masks its password', () => {
    parsePlanText(
      `${head}database: { engine: postgres, url: "postgres://app:${CANARY}@db.internal:5432/app" }\n`,
      'plan.yaml',
    );
    expect(redact(`connecting to postgres://app:${CANARY}@db.internal:5432/app failed`)).toBe(
      'connecting to postgres://app:***@db.internal:5432/app failed',
    );
    // The password alone (a driver quoting it) is masked too.
    expect(redact(`password ${CANARY} rejected`)).toBe('password *** rejected');
  });
});

describe('redaction and key paths', () => {
  it('does not mistake a key path in a message for a secret assignment', () => {
    expect(redact('notify.channels[0].secret: the string must start with whsec_')).toBe(
      'notify.channels[0].secret: the string must start with whsec_',
    );
    expect(redact('secret: hunter22')).toBe('secret: ***');
    expect(redact('{"token": "abcdef123"}')).toBe('{"token": ***}');
  });
});
