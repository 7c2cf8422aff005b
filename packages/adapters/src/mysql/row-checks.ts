/**
 * Checks of the columns of rows read back, hand-written instead of zod objects: they run for
 * every row of every read, claim and reservation (a scheduler re-reads thousands of servers a
 * second), and a failed check still names the table, the column and the rule.
 *
 * @internal
 * @module
 */
import { ValidationError } from '@ctlplane/core';

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
    const n = Number(this.#row[column]);
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

  /** A JSON column: text on MariaDB, already parsed by mysql2 on MySQL 8. */
  json(column: string): unknown {
    const v = this.#row[column];
    if (typeof v !== 'string') return v;
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

  #bad(column: string, rule: string): never {
    throw new ValidationError(`${this.#table} row: ${column}: ${rule}`, [{ path: column, message: rule }]);
  }
}
