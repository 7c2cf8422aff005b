/**
 * The router on MariaDB/MySQL: agents never touch the database, the router holds at most
 * `maxDbConcurrency` connections, acknowledgements land as transitions, and a router restart
 * loses nothing; a failing database's error text reaches the log, never an agent.
 */
import { MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
import { EventStore } from '@ctlplane/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { describeWith } from '../support/requires.js';
import { mysqlUrl } from '../support/services.js';
import { cleanupAfterEach, hostNames, startWsAgents, startWsRouter } from './fixtures/router-harness.js';
import { countDone, keyring, Ledger, placeEvents, type Types, types, until } from './fixtures/router-kit.js';
import { RawClient } from './fixtures/router-net.js';
import { RecordingLogger } from './fixtures/security-kit.js';

describeWith('mysql', 'EventRouter on MySQL', () => {
  const prefix = uniquePrefix('rt');
  const admin = testPool({ connectionLimit: 1 });
  const cleanups = cleanupAfterEach();
  const open = (poolSize: number, autoMigrate = false) => {
    const driver = new MysqlEventStoreDriver({
      url: mysqlUrl(),
      tablePrefix: prefix,
      poolSize,
      migrate: autoMigrate,
    });
    const store = new EventStore<Types>({ driver, types });
    cleanups.push(() => store.close());
    return { driver, store };
  };

  beforeAll(async () => {
    await admin.query('SELECT 1');
  });
  afterAll(async () => {
    await dropPrefixed(admin, prefix);
    await admin.end();
  });

  it('routes through a pool of two connections and survives a router restart', async () => {
    const { driver: apiDriver, store: api } = open(2, true); // the API process appending events
    await apiDriver.ready();
    const startRouter = async (port = 0) => {
      const { driver, store } = open(8); // the pool could grow; the router's gate keeps it at 2
      const started = await startWsRouter({
        store,
        cleanups,
        pollMs: 50,
        router: { maxDbConcurrency: 2 },
        server: { port },
      });
      return { driver, ...started };
    };
    const a = await startRouter();
    const ledger = new Ledger();
    const servers = hostNames(12);
    await startWsAgents({ servers, url: a.url, ledger, cleanups });

    await placeEvents(api, 300, (i) => servers[i % servers.length]!);
    await until(async () => (await countDone(api)) === 300, '300 done', 60_000);
    expect(a.driver.connections()).toBeLessThanOrEqual(2);
    // The last batch's commit is visible in the table a moment before the router counts it.
    await until(() => a.router.stats().acks.applied === 600, '600 acks counted', 10_000);
    const stats = a.router.stats();
    expect(stats.acks.applied).toBe(600);
    expect(stats.dbQueries.transition).toBeLessThan(600);

    await a.router.close();
    await placeEvents(api, 100, (i) => servers[i % servers.length]!);
    const b = await startRouter(a.port);
    await placeEvents(api, 100, (i) => servers[i % servers.length]!);
    await until(async () => (await countDone(api)) === 500, '500 done', 60_000);
    expect(b.driver.connections()).toBeLessThanOrEqual(2);
    expect(ledger.foreign).toEqual([]);
    expect(ledger.runs.size).toBe(500);
    for (const [id, n] of ledger.runs) expect(n, `event ${id}`).toBe(1);
  });

  it('regression(13.11): answers an ack the database refused with a fixed message; the detail goes to the log', async () => {
    const { driver, store } = open(2, true);
    await driver.ready();
    const log = new RecordingLogger('router');
    const { url } = await startWsRouter({ store, cleanups, pollMs: 50, router: { logger: log } });
    const raw = new RawClient(url);
    cleanups.push(async () => raw.terminate());
    await raw.opened();
    raw.hello(keyring().sign({ serverId: 'hv-db', region: 'r1' }), 'hv-db');
    await until(() => raw.frames.some((f) => f.type === 'resync'), 'told to resync');
    raw.send({ type: 'snapshot' });
    await until(() => raw.frames.some((f) => f.type === 'snapshot'), 'live');
    const [event] = await placeEvents(store, 1, () => 'hv-db');
    await until(() => raw.frames.some((f) => f.type === 'events'), 'the event delivered');
    await admin.query(`RENAME TABLE \`${prefix}events\` TO \`${prefix}events_away\``);
    try {
      raw.send({ type: 'ack', acks: [{ id: event!.id, status: 'running' }] });
      await until(() => raw.frames.some((f) => f.type === 'acked'), 'the ack answered', 20_000);
    } finally {
      await admin.query(`RENAME TABLE \`${prefix}events_away\` TO \`${prefix}events\``);
    }
    const [acked] = raw.frames.filter((f) => f.type === 'acked');
    expect(acked!.results).toEqual([
      {
        id: event!.id,
        status: 'running',
        ok: false,
        code: 'UNAVAILABLE',
        message: 'store unavailable; send again',
      },
    ]);
    expect(JSON.stringify(raw.frames)).not.toContain(prefix);
    expect(log.text()).toContain(`${prefix}events`);
  });
});
