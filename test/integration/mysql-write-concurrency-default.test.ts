/**
 * The MySQL driver's default `writeConcurrency` leaves a connection of its pool for reads:
 * `min(4, poolSize - 1)`, at least 1 (review of 2026-12-06: it was 4 on the default pool of 4, so
 * a burst of writes could hold every connection while feed reads and long-polls waited).
 */
import { MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
import { ValidationError } from '@ctlplane/core';
import { expect, it } from 'vitest';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';

describeWith('mysql', 'MySQL default writeConcurrency', () => {
  const url = mysqlUrl();

  it.each([
    [undefined, undefined, 3],
    [1, undefined, 1],
    [2, undefined, 1],
    [8, undefined, 4],
    [4, 4, 4],
  ])('poolSize %s, writeConcurrency %s: %s writes at once', async (poolSize, writeConcurrency, expected) => {
    const driver = new MysqlEventStoreDriver({
      url,
      ...(poolSize !== undefined ? { poolSize } : {}),
      ...(writeConcurrency !== undefined ? { writeConcurrency } : {}),
    });
    try {
      expect(driver.capabilities.writeConcurrency).toBe(expected);
    } finally {
      await driver.close();
    }
  });

  it('refuses a writeConcurrency of 0, naming the field', () => {
    expect(() => new MysqlEventStoreDriver({ url, writeConcurrency: 0 })).toThrow(ValidationError);
    expect(() => new MysqlEventStoreDriver({ url, writeConcurrency: 0 })).toThrow(/writeConcurrency/);
  });
});
