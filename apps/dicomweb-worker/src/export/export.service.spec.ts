import { randomBytes } from 'node:crypto';
import { SecretCipher } from '@pacslink/secrets';
import { classifyStowFailure } from './export.service';

const context = {
  table: 'pacs_config',
  rowId: 'r1',
  field: 'password',
  destination: 'https://pacs-a.example:443',
};

function refusal(attempt: () => unknown): unknown {
  try {
    attempt();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

describe('classifyStowFailure: credentials that cannot be unsealed', () => {
  const cipher = new SecretCipher(randomBytes(32));
  const sealed = cipher.encrypt('s3cret', context);

  it('fails at once for a credential sealed for another destination (no retries against a wrong server)', () => {
    const error = refusal(() =>
      cipher.decrypt(sealed, { ...context, destination: 'https://evil.example:443' }),
    );
    const failure = classifyStowFailure(error);
    expect(failure.transient).toBe(false);
    expect(failure.reason).toContain('entered for https://pacs-a.example:443');
    expect(failure.reason).not.toContain('s3cret');
  });

  it('fails at once for what is not a pacslink secret', () => {
    expect(classifyStowFailure(refusal(() => cipher.decrypt('v2:garbage', context))).transient).toBe(false);
  });

  it('retries a secret made with a key this worker lacks (a key rollout under way)', () => {
    const other = new SecretCipher(randomBytes(32));
    expect(classifyStowFailure(refusal(() => other.decrypt(sealed, context))).transient).toBe(true);
  });
});
