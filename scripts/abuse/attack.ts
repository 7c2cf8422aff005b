/**
 * What an attack is, and what it is given: where the servers listen, the few credentials an
 * attack that needs an authenticated careless client may use, and a place to record what it saw.
 */

import type { MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
import type { HarpoonClient } from '@ctlplane/core';
import type { AbuseSchemas } from './types.js';

/** Where a server listens. */
export interface Endpoint {
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

/** Everything an attack may use. */
export interface AttackContext {
  /** The CI-sized run: fewer connections, shorter floods. */
  readonly quick: boolean;
  /** Seed of the fast-check runs. */
  readonly seed: number;
  readonly harpoon: Endpoint;
  /** The router's WebSocket URL (`ws://…/agents`), host and port. */
  readonly router: Endpoint;
  /** Bearer token of the careless service (create, read, transition), for findings that need one. */
  readonly carelessToken: string;
  /** A HarpoonClient of the careless service. */
  readonly careless: HarpoonClient<AbuseSchemas>;
  /** A valid agent token for `serverId` in the router's region (a careless agent's). */
  agentToken(serverId: string): string;
  /** The store's driver, as an operator has it: rows written here skip every check (legacy rows). */
  readonly driver: MysqlEventStoreDriver;
  /** The table prefix of this run (a response naming it leaks database text). */
  readonly tablePrefix: string;
  /** MariaDB's global `Com_select` counter (every client's SELECTs). */
  selects(): Promise<number>;
  /** Lines Harpoon has logged so far. */
  harpoonLines(): number;
  /** Record a figure or a fact worth printing. */
  note(line: string): void;
  /** Record an expectation; a false one is a miss of this attack. */
  expect(ok: boolean, what: string): void;
}

/** One named attack. */
export interface Attack {
  /** Short name, used by `--only`. */
  readonly name: string;
  /** The finding of issue 13 it replays (`1`…`15`, `doc`, or `neighbour`). */
  readonly finding: string;
  /** What it does, one line. */
  readonly what: string;
  /** The server it targets. */
  readonly target: 'harpoon' | 'router' | 'both';
  run(ctx: AttackContext): Promise<void>;
}

/** Run `fn` over `items` with at most `limit` at once. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** `n` numbers 0 … n-1. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
