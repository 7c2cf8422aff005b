/**
 * Bearer tokens per service, with scopes. Tokens are compared in constant time and never echoed.
 *
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { UnauthorizedError } from '../../errors.js';

/** What a service may do through Harpoon's HTTP API. */
export const HARPOON_SCOPES = ['events:create', 'events:transition', 'events:read', 'events:claim'] as const;

/** One of {@link HARPOON_SCOPES}. */
export type HarpoonScope = (typeof HARPOON_SCOPES)[number];

/** A service allowed to call Harpoon. */
export interface ServiceToken {
  /** The service's name (for logs; never the token). */
  service: string;
  /** Its bearer token: at least 16 characters. */
  token: string;
  /** What it may do (default: everything). */
  scopes?: readonly HarpoonScope[];
}

/** @internal */
export const serviceTokenSchema = z
  .object({
    service: z.string().min(1).max(100),
    token: z.string().min(16, 'must be at least 16 characters'),
    scopes: z.array(z.enum(HARPOON_SCOPES)).readonly().optional(),
  })
  .strict();

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

interface TokenEntry {
  readonly service: string;
  readonly digest: Buffer;
  readonly scopes: ReadonlySet<HarpoonScope>;
}

/** @internal Checks `Authorization` headers against the configured service tokens. */
export class TokenAuthenticator {
  readonly #entries: TokenEntry[];

  constructor(tokens: readonly ServiceToken[]) {
    this.#entries = tokens.map((t) => ({
      service: t.service,
      digest: digest(t.token),
      scopes: new Set(t.scopes ?? HARPOON_SCOPES),
    }));
  }

  /** The calling service, or `UnauthorizedError` (missing, unknown, or lacking `scope`). */
  authorize(header: string | undefined, scope: HarpoonScope): string {
    const m = /^Bearer ([^\s]+)$/.exec(header ?? '');
    if (!m) throw new UnauthorizedError('missing bearer token');
    const d = digest(m[1]!);
    // Compare against every entry so timing does not reveal which one matched.
    let match: TokenEntry | undefined;
    for (const e of this.#entries) if (timingSafeEqual(e.digest, d)) match = e;
    if (!match) throw new UnauthorizedError('invalid bearer token');
    if (!match.scopes.has(scope))
      throw new UnauthorizedError(`service ${match.service} lacks scope ${scope}`);
    return match.service;
  }
}
