/**
 * Agent credentials: HMAC-SHA256 signed tokens naming one server of one region, with an expiry,
 * verified against a rotating list of keys identified by `kid`.
 *
 * Token format: `ctl1.<kid>.<base64url(JSON claims)>.<base64url(HMAC-SHA256(secret, "ctl1.<kid>.<claims>"))>`.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from '../../errors.js';
import { nameSchema, parseOrThrow } from '../../validation.js';
import { type AgentAuthenticator, type AgentIdentity, TokenError } from './authenticator.js';

const PREFIX = 'ctl1';

/** One signing key. Secrets are at least 32 bytes; never log them. */
export interface AgentKey {
  /** Key id, carried in every token it signs (letters, digits, `_`, `-`; at most 64). */
  kid: string;
  /** The HMAC secret: a string (UTF-8) or bytes, at least 32 bytes. */
  secret: string | Uint8Array;
}

/** Options of {@link AgentKeyring}. */
export interface AgentKeyringOptions {
  /** Keys that verify tokens (and sign, for `signingKid`). At least one. */
  keys: readonly AgentKey[];
  /** The key that signs new tokens (default: the first key). */
  signingKid?: string;
  /** Lifetime of a new token (default 24 h). */
  ttlMs?: number;
  /** Tolerated clock difference between signer and router (default 30 s). */
  clockSkewMs?: number;
  /** The clock (default `Date.now`), for tests. */
  now?: () => number;
}

const kidSchema = z.string().regex(/^[\w-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');
const keySchema = z.object({
  kid: kidSchema,
  secret: z
    .union([z.string(), z.instanceof(Uint8Array)])
    .refine(
      (s) => (typeof s === 'string' ? Buffer.byteLength(s) : s.byteLength) >= 32,
      'must be at least 32 bytes',
    ),
});
const optionsSchema = z
  .object({
    keys: z.array(keySchema).min(1, 'must have at least one key').max(32),
    signingKid: kidSchema.optional(),
    ttlMs: z
      .number()
      .int()
      .positive()
      .max(366 * 86_400_000)
      .default(86_400_000),
    clockSkewMs: z.number().int().nonnegative().max(3_600_000).default(30_000),
    now: z.custom<() => number>((v) => typeof v === 'function', 'must be a function').default(() => Date.now),
  })
  .strict();

const claimsSchema = z
  .object({ sub: nameSchema, reg: nameSchema, iat: z.number().int(), exp: z.number().int() })
  .strict();

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/**
 * Signs and verifies agent tokens. Rotate keys without a restart: `setKeys` with the new key
 * added and `signingKid` pointing at it; remove the old key once every token it signed expired.
 *
 * @example
 * ```ts
 * const keyring = new AgentKeyring({ keys: [{ kid: '2025-01', secret: process.env.AGENT_KEY! }] });
 * const token = keyring.sign({ serverId: 'hv-17', region: 'nyc1' });
 * ```
 */
export class AgentKeyring implements AgentAuthenticator {
  #keys = new Map<string, Buffer>();
  #signingKid = '';
  readonly #ttlMs: number;
  readonly #skewMs: number;
  readonly #now: () => number;

  /** @param options - keys and lifetimes; validated here */
  constructor(options: AgentKeyringOptions) {
    const o = parseOrThrow(optionsSchema, options, 'AgentKeyring options');
    this.#ttlMs = o.ttlMs;
    this.#skewMs = o.clockSkewMs;
    this.#now = o.now;
    this.setKeys(options.keys, options.signingKid);
  }

  /** The key ids that verify tokens (never the secrets). */
  get kids(): readonly string[] {
    return [...this.#keys.keys()];
  }

  /** The key id that signs new tokens. */
  get signingKid(): string {
    return this.#signingKid;
  }

  /**
   * Replace the key list (rotation). Tokens signed with a removed key stop verifying at once.
   *
   * @throws ValidationError when a key is too short or `signingKid` is not in the list
   */
  setKeys(keys: readonly AgentKey[], signingKid?: string): void {
    const parsed = parseOrThrow(optionsSchema.shape.keys, keys, 'AgentKeyring keys');
    const next = new Map<string, Buffer>();
    for (const k of parsed) next.set(k.kid, Buffer.from(k.secret));
    const signer = signingKid ?? parsed[0]!.kid;
    if (!next.has(signer)) {
      throw new ValidationError(`signingKid: "${signer}" is not in keys`, [
        { path: 'signingKid', message: 'must be the kid of one of the keys' },
      ]);
    }
    this.#keys = next;
    this.#signingKid = signer;
  }

  /** A token proving the bearer is `serverId` of `region`, valid for `ttlMs` (default: the keyring's). */
  sign(claims: { serverId: string; region: string; ttlMs?: number }): string {
    const serverId = parseOrThrow(nameSchema, claims.serverId, 'serverId');
    const region = parseOrThrow(nameSchema, claims.region, 'region');
    const ttl =
      claims.ttlMs === undefined
        ? this.#ttlMs
        : parseOrThrow(optionsSchema.shape.ttlMs, claims.ttlMs, 'ttlMs');
    const iat = this.#now();
    const body = b64(JSON.stringify({ sub: serverId, reg: region, iat, exp: iat + ttl }));
    const signed = `${PREFIX}.${this.#signingKid}.${body}`;
    return `${signed}.${this.#mac(this.#keys.get(this.#signingKid)!, signed)}`;
  }

  /**
   * The identity a token proves.
   *
   * @throws TokenError (`malformed`, `unknown-key`, `bad-signature`, `expired`, `not-yet-valid`);
   *   its message never contains the token or a secret
   */
  authenticate(token: string): AgentIdentity {
    const parts = typeof token === 'string' && token.length <= 4096 ? token.split('.') : [];
    const [prefix, kid, body, mac] = parts;
    if (parts.length !== 4 || prefix !== PREFIX || !kid || !body || !mac) {
      throw new TokenError('malformed', 'token is malformed');
    }
    const secret = this.#keys.get(kid);
    if (!secret) throw new TokenError('unknown-key', 'token is signed with an unknown key');
    const expected = Buffer.from(this.#mac(secret, `${prefix}.${kid}.${body}`));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new TokenError('bad-signature', 'token signature does not match');
    }
    let claims: z.output<typeof claimsSchema>;
    try {
      claims = claimsSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    } catch {
      throw new TokenError('malformed', 'token claims are malformed');
    }
    const now = this.#now();
    if (claims.exp + this.#skewMs <= now) throw new TokenError('expired', 'token has expired');
    if (claims.iat - this.#skewMs > now) throw new TokenError('not-yet-valid', 'token is not valid yet');
    return { serverId: claims.sub, region: claims.reg, kid, expiresAt: new Date(claims.exp) };
  }

  /** Never serialise secrets. */
  toJSON(): { kids: readonly string[]; signingKid: string } {
    return { kids: this.kids, signingKid: this.#signingKid };
  }

  #mac(secret: Buffer, data: string): string {
    return createHmac('sha256', secret).update(data).digest('base64url');
  }
}
