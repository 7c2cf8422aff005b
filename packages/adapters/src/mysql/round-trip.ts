/**
 * Multi-statement round trips whose results are read by name. A script is a list of single
 * statements; the ones given a `name` keep their result, which is then read as rows or as an
 * OK packet by that name, never by counting positions.
 *
 * @internal
 * @module
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';

/** One SQL statement (no `;`: values are bound as parameters) and, to read its result, a name. */
export interface Statement {
  readonly sql: string;
  readonly params?: readonly unknown[];
  readonly name?: string;
}

/** The named results of one round trip. */
export class Results {
  readonly #byName: ReadonlyMap<string, unknown>;

  constructor(byName: ReadonlyMap<string, unknown>) {
    this.#byName = byName;
  }

  /** The rows a named SELECT returned. */
  rows(name: string): RowDataPacket[] {
    const r = this.#get(name);
    if (!Array.isArray(r)) throw new Error(`round trip: ${name} returned no rows`);
    return r as RowDataPacket[];
  }

  /** The first row a named SELECT returned (it must return one). */
  row(name: string): RowDataPacket {
    const r = this.rows(name)[0];
    if (!r) throw new Error(`round trip: ${name} returned an empty result`);
    return r;
  }

  /** The OK packet of a named INSERT, UPDATE or DELETE. */
  header(name: string): ResultSetHeader {
    const r = this.#get(name);
    if (Array.isArray(r)) throw new Error(`round trip: ${name} returned rows, not an OK packet`);
    return r as ResultSetHeader;
  }

  /** These results and `other`'s, for a transaction split over two round trips. */
  merge(other: Results): Results {
    return new Results(new Map([...this.#byName, ...other.#byName]));
  }

  #get(name: string): unknown {
    if (!this.#byName.has(name)) throw new Error(`round trip: no result named ${name}`);
    return this.#byName.get(name);
  }
}

/** The text and parameters of a script. */
export function scriptText(statements: readonly Statement[]): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const parts = statements.map((s) => {
    if (s.sql.includes(';')) throw new Error(`round trip: one statement per entry: ${s.sql.slice(0, 60)}`);
    if (s.params) params.push(...s.params);
    return s.sql;
  });
  return { sql: parts.join('; '), params };
}

/** Name the results mysql2 returned for `statements` (one result per statement). */
export function nameResults(statements: readonly Statement[], raw: unknown): Results {
  const list = statements.length === 1 ? [raw] : (raw as unknown[]);
  const byName = new Map<string, unknown>();
  statements.forEach((s, i) => {
    if (s.name) byName.set(s.name, list[i]);
  });
  return new Results(byName);
}
