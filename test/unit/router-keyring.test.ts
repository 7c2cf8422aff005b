import { inspect } from 'node:util';
import { AgentKeyring, isCtlplaneError, TokenError } from '@ctlplane/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const SECRET = 's'.repeat(32);

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TokenError) return err.reason;
    throw err;
  }
  return 'accepted';
}

describe('AgentKeyring', () => {
  it('signs a token that proves server, region, key and expiry', () => {
    let now = 1_700_000_000_000;
    const keys = new AgentKeyring({ keys: [{ kid: 'k1', secret: SECRET }], ttlMs: 60_000, now: () => now });
    const token = keys.sign({ serverId: 'hv-1', region: 'nyc1' });
    expect(token.startsWith('ctl1.k1.')).toBe(true);
    expect(keys.authenticate(token)).toEqual({
      serverId: 'hv-1',
      region: 'nyc1',
      kid: 'k1',
      expiresAt: new Date(now + 60_000),
    });
    now += 60_000 + 30_000; // past expiry plus the default clock skew
    expect(reasonOf(() => keys.authenticate(token))).toBe('expired');
  });

  it('refuses a token from the future beyond the clock skew', () => {
    let now = 1_700_000_000_000;
    const keys = new AgentKeyring({
      keys: [{ kid: 'k1', secret: SECRET }],
      clockSkewMs: 1_000,
      now: () => now,
    });
    const token = keys.sign({ serverId: 'hv-1', region: 'nyc1' });
    now -= 5_000;
    expect(reasonOf(() => keys.authenticate(token))).toBe('not-yet-valid');
  });

  it('refuses every single-character change of a valid token', () => {
    const keys = new AgentKeyring({ keys: [{ kid: 'k1', secret: SECRET }] });
    const token = keys.sign({ serverId: 'hv-1', region: 'nyc1' });
    fc.assert(
      fc.property(fc.nat(token.length - 1), fc.constantFrom(...'abcXYZ019-_.'), (i, c) => {
        fc.pre(token[i] !== c);
        const forged = token.slice(0, i) + c + token.slice(i + 1);
        expect(reasonOf(() => keys.authenticate(forged))).not.toBe('accepted');
      }),
      { numRuns: 300 },
    );
  });

  it('names the reason: malformed, unknown key, bad signature', () => {
    const keys = new AgentKeyring({ keys: [{ kid: 'k1', secret: SECRET }] });
    const other = new AgentKeyring({ keys: [{ kid: 'k2', secret: SECRET }] });
    const sameKidOtherSecret = new AgentKeyring({ keys: [{ kid: 'k1', secret: 't'.repeat(32) }] });
    expect(reasonOf(() => keys.authenticate('a.b.c'))).toBe('malformed');
    expect(reasonOf(() => keys.authenticate('x'.repeat(5000)))).toBe('malformed');
    expect(reasonOf(() => keys.authenticate(other.sign({ serverId: 'a', region: 'b' })))).toBe('unknown-key');
    expect(reasonOf(() => keys.authenticate(sameKidOtherSecret.sign({ serverId: 'a', region: 'b' })))).toBe(
      'bad-signature',
    );
    const err = (() => {
      try {
        keys.authenticate('a.b.c');
      } catch (e) {
        return e;
      }
    })();
    expect(isCtlplaneError(err, 'UNAUTHORIZED')).toBe(true);
  });

  it('rotates: verifies with every listed key, signs with the chosen one, forgets removed keys', () => {
    const keys = new AgentKeyring({ keys: [{ kid: 'old', secret: SECRET }] });
    const oldToken = keys.sign({ serverId: 'hv-1', region: 'r' });
    keys.setKeys(
      [
        { kid: 'new', secret: 'n'.repeat(32) },
        { kid: 'old', secret: SECRET },
      ],
      'new',
    );
    expect(keys.signingKid).toBe('new');
    const newToken = keys.sign({ serverId: 'hv-1', region: 'r' });
    expect(keys.authenticate(oldToken).kid).toBe('old');
    expect(keys.authenticate(newToken).kid).toBe('new');
    keys.setKeys([{ kid: 'new', secret: 'n'.repeat(32) }]);
    expect(reasonOf(() => keys.authenticate(oldToken))).toBe('unknown-key');
    expect(() => keys.setKeys([{ kid: 'a', secret: SECRET }], 'b')).toThrow(/signingKid/);
  });

  it('validates keys and never shows a secret', () => {
    expect(() => new AgentKeyring({ keys: [{ kid: 'k', secret: 'short' }] })).toThrow(/at least 32 bytes/);
    expect(() => new AgentKeyring({ keys: [] })).toThrow(/at least one key/);
    expect(() => new AgentKeyring({ keys: [{ kid: 'bad kid', secret: SECRET }] })).toThrow(/kid/);
    const keys = new AgentKeyring({ keys: [{ kid: 'k1', secret: SECRET }] });
    expect(JSON.stringify(keys)).toBe('{"kids":["k1"],"signingKid":"k1"}');
    expect(inspect(keys, { depth: 5 })).not.toContain(SECRET);
    expect(() => keys.sign({ serverId: '', region: 'r' })).toThrow(/serverId/);
  });
});
