/**
 * regression(corrupt-row-validation), review of 2026-12-06: a corrupt row read back from MySQL
 * was a `ValidationError` (an HTTP caller got 400 for the database's fault), `integer()` read
 * NULL and '' as 0, and `json()` returned any non-string unchecked. A corrupt row is now an
 * `UnavailableError` (not transient) naming the table, column and rule.
 */
import { isCtlplaneError, UnavailableError } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { RowReader } from '../../packages/adapters/src/mysql/row-checks.js';

const corrupt = (fn: () => unknown): UnavailableError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UnavailableError);
    expect(isCtlplaneError(err, 'VALIDATION')).toBe(false);
    expect((err as UnavailableError).transient).toBe(false);
    return err as UnavailableError;
  }
  throw new Error('expected a corrupt-row error');
};

describe('RowReader', () => {
  it('reads integers as mysql2 returns them: number, bigint, decimal text', () => {
    const r = new RowReader('events', { a: 7, b: 12n, c: '9007199254740991', d: '-3' });
    expect([r.integer('a'), r.integer('b'), r.integer('c'), r.integer('d')]).toEqual([
      7, 12, 9007199254740991, -3,
    ]);
  });

  it.each([null, undefined, '', ' 1', '1.5', 'x', true, false, 1.5, '9007199254740993'])(
    'refuses %j as an integer',
    (v) => {
      const err = corrupt(() => new RowReader('events', { seq: v }).integer('seq'));
      expect(err.message).toBe('corrupt events row: seq: must be an integer');
    },
  );

  it('parses JSON text and takes objects mysql2 already parsed', () => {
    expect(new RowReader('events', { p: '{"a":1}' }).json('p')).toEqual({ a: 1 });
    expect(new RowReader('servers', { p: { a: 1 } }).json('p')).toEqual({ a: 1 });
    expect(new RowReader('servers', { p: [1] }).json('p')).toEqual([1]);
  });

  it.each([
    ['invalid text', '{', 'must be valid JSON'],
    ['a Buffer', Buffer.from('{}'), 'must be JSON text'],
    ['a number', 5, 'must be JSON text'],
    ['NULL', null, 'must be JSON text'],
    ['a Date', new Date(0), 'must be JSON text'],
  ])('refuses %s as a JSON column', (_, v, rule) => {
    const err = corrupt(() => new RowReader('events', { payload: v }).json('payload'));
    expect(err.message).toBe(`corrupt events row: payload: ${rule}`);
  });

  it('a row that is not an object is corrupt too', () => {
    corrupt(() => new RowReader('events', null));
  });
});
