/**
 * Checks of the columns of rows read back, hand-written instead of zod objects: they run for
 * every row of every read, claim and reservation (a scheduler re-reads thousands of servers a
 * second), and a failed check still names the table, the column and the rule.
 *
 * A row that fails is corrupt data in the database, never the caller's fault: it is an
 * `UnavailableError` (not transient: reading it again gives the same row), not a
 * `ValidationError`, which would tell an HTTP caller that its request was bad (400).
 *
 * @internal
 * @module
 */
import { UnavailableError } from '@ctlplane/core';

/** An integer as mysql2 returns one: a number, a bigint, or decimal digits (BIGINT as string). */
const INTEGER_TEXT = /^-?\d+$/;

/** @internal One row being read from `table`. */
export class RowReader {
  readonly #table: string;
  readonly #row: Record<string, unknown>;

  constructor(table: string, input: unknown) {
    this.#table = table;
    if (typeof input !== 'object' || input === null) this.#bad('(row)', 'must be an object');
    this.#row = input as Record<string, unknown>;
  }

  /** True when the column is NULL. */
  isNull(column: string): boolean {
    return this.#row[column] === null;
  }

  integer(column: string): number {
    const v = this.#row[column];
    // Number() alone would read NULL, '' and false as 0, and true as 1.
    const numeric =
      typeof v === 'number' || typeof v === 'bigint' || (typeof v === 'string' && INTEGER_TEXT.test(v));
    const n = numeric ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n)) this.#bad(column, 'must be an integer');
    return n;
  }

  count(column: string): number {
    const n = this.integer(column);
    if (n < 0) this.#bad(column, 'must be a non-negative integer');
    return n;
  }

  text(column: string): string {
    const v = this.#row[column];
    if (typeof v !== 'string') this.#bad(column, 'must be a string');
    return v as string;
  }

  textOrNull(column: string): string | null {
    return this.isNull(column) ? null : this.text(column);
  }

  date(column: string): Date {
    const v = this.#row[column];
    if (!(v instanceof Date) || Number.isNaN(v.getTime())) this.#bad(column, 'must be a date');
    return v as Date;
  }

  /**
   * A JSON column: text on MariaDB (and every LONGTEXT column), an object or array already parsed
   * by mysql2 for a JSON column on MySQL 8. Anything else (NULL, a Buffer, a number) is refused.
   */
  json(column: string): unknown {
    const v = this.#row[column];
    if (typeof v !== 'string') {
      if (isParsedJson(v)) return v;
      return this.#bad(column, 'must be JSON text');
    }
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return this.#bad(column, 'must be valid JSON');
    }
  }

  /** A JSON object whose values all pass `check` (a number, a string). */
  record<T>(column: string, check: (v: unknown) => v is T, rule: string): Record<string, T> {
    const v = this.json(column);
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return this.#bad(column, 'must be a JSON object');
    for (const x of Object.values(v)) if (!check(x)) this.#bad(column, rule);
    return v as Record<string, T>;
  }

  oneOf<T extends string>(column: string, allowed: ReadonlySet<string>): T {
    const v = this.text(column);
    if (!allowed.has(v)) this.#bad(column, `must be one of ${[...allowed].join(', ')}`);
    return v as T;
  }

  /** Refuse the row unless `ok`: a check of `column` made by the caller. */
  check(column: string, ok: boolean, rule: string): void {
    if (!ok) this.#bad(column, rule);
  }

  #bad(column: string, rule: string): never {
    throw new UnavailableError(`corrupt ${this.#table} row: ${column}: ${rule}`);
  }
}

/** A plain object or array, as mysql2 parses a MySQL JSON column (not a Buffer, a Date, …). */
function isParsedJson(v: unknown): boolean {
  if (Array.isArray(v)) return true;
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
