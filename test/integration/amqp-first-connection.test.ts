/**
 * A first connection that can never work, against the real broker: refused credentials and a
 * virtual host that does not exist. `ready()` rejects at once (not after its timeout) with an
 * UnauthorizedError, and `close()` returns within a second even with a publish waiting (the
 * default closeTimeoutMs is 10 s: a bus that never connected has nothing to wait for).
 */
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { UnauthorizedError } from '@ctlplane/core';
import { expect, it } from 'vitest';
import { describeWith } from '../support/requires.js';
import { amqpUrl } from '../support/services.js';

const PASSWORD = 'not-the-Pa55word-4c1';

/** The test broker's URL with one part replaced. */
function variant(part: 'password' | 'pathname', value: string): string {
  const u = new URL(amqpUrl());
  u[part] = value;
  return u.toString();
}

describeWith('amqp', 'AmqpBus: a first connection that can never work', () => {
  it.each([
    ['refused credentials', variant('password', PASSWORD), /ACCESS.REFUSED/],
    [
      'an unknown virtual host',
      variant('pathname', '/no-such-vhost-7f3e'),
      /refused to open virtual host "no-such-vhost-7f3e" \(it does not exist, or the user may not use it\)/,
    ],
  ])(
    '%s: ready() rejects at once with UnauthorizedError; close() takes under a second',
    async (_what, url, message) => {
      const bus = new AmqpBus({ urls: url, connectionName: 'ctlplane-first-connection' });
      const pending = bus.publish({ routingKey: 'k', body: 1 });
      pending.catch(() => {});
      const started = Date.now();
      const err = (await bus.ready().then(
        () => null,
        (e: unknown) => e,
      )) as Error;
      expect(Date.now() - started).toBeLessThan(5_000); // readyTimeoutMs is 30 s: this was not the timeout
      expect(err).toBeInstanceOf(UnauthorizedError);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain(PASSWORD);
      const closing = Date.now();
      await bus.close();
      expect(Date.now() - closing).toBeLessThan(1_000);
      await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    },
  );
});
