/**
 * What the router needs from an authentication scheme: a token in, a proven identity out.
 *
 * @module
 */
import { UnauthorizedError } from '../../errors.js';

/** Who an agent proved to be. The router derives the agent's filter from this, never from the agent. */
export interface AgentIdentity {
  /** The server the bearer is. */
  readonly serverId: string;
  /** The region of that server. */
  readonly region: string;
  /** The key that signed the credential. */
  readonly kid: string;
  /** When the credential expires. */
  readonly expiresAt: Date;
}

/** Why a token was refused. */
export type TokenErrorReason = 'malformed' | 'unknown-key' | 'bad-signature' | 'expired' | 'not-yet-valid';

/** A refused token; `reason` says why. The message never contains the token or a secret. */
export class TokenError extends UnauthorizedError {
  /**
   * @param reason - why the token was refused
   * @param message - the same, in words
   */
  constructor(
    readonly reason: TokenErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Verifies agent credentials. {@link AgentKeyring} is the built-in HMAC scheme; implement this
 * to plug in another (it may be async, e.g. to look a key up).
 */
export interface AgentAuthenticator {
  /**
   * The identity `token` proves.
   *
   * @throws TokenError (or any UnauthorizedError) when it proves nothing
   */
  authenticate(token: string): AgentIdentity | Promise<AgentIdentity>;
}
