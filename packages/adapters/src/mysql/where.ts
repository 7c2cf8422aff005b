/**
 * Optional filters as parameterised SQL: each clause whose value is defined is kept.
 *
 * @internal
 * @module
 */

/** @internal */
export interface Conditions {
  readonly clauses: string[];
  readonly params: unknown[];
}

/** @internal Keep `[clause, value]` pairs whose value is not undefined. */
export function conditions(pairs: readonly (readonly [string, unknown])[]): Conditions {
  const kept = pairs.filter(([, v]) => v !== undefined);
  return { clauses: kept.map(([c]) => c), params: kept.map(([, v]) => v) };
}

/** @internal The clauses as ` AND …` suffixes, with columns qualified by `alias` when given. */
export function andClauses(c: Conditions, alias = ''): string {
  return c.clauses.map((clause) => ` AND ${alias}${clause}`).join('');
}
