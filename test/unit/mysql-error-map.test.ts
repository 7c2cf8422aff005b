/**
 * How the MySQL adapter types the errors a server sends, Galera's included: what is safe to retry
 * is `transient`, a connection lost on COMMIT is not (the outcome is unknown).
 */
import { UnavailableError } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { mapMysqlError } from '../../packages/adapters/src/mysql/errors.js';

const driverError = (errno: number, code: string, message: string) =>
  Object.assign(new Error(message), { errno, code });

describe('mapMysqlError', () => {
  it("Galera's node-not-ready (1047) is a transient UnavailableError: the node ran nothing", () => {
    const err = mapMysqlError(
      driverError(1047, 'ER_UNKNOWN_COM_ERROR', 'WSREP has not yet prepared node for application use'),
      'append',
    );
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).transient).toBe(true);
    expect(err.message).toMatch(/Galera node is not ready/);
  });

  it('a deadlock (1213, also how Galera reports a certification failure) is transient, even on COMMIT', () => {
    const err = mapMysqlError(driverError(1213, 'ER_LOCK_DEADLOCK', 'Deadlock found'), 'append', true);
    expect((err as UnavailableError).transient).toBe(true);
  });

  it('a connection lost on COMMIT is not transient: the outcome is unknown', () => {
    const err = mapMysqlError(
      driverError(2013, 'PROTOCOL_CONNECTION_LOST', 'Connection lost'),
      'append',
      true,
    );
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).transient).toBe(false);
  });
});
