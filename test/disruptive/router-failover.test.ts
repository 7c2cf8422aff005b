/**
 * Hard failures around the router: a router process killed with SIGKILL mid-run (its agents fail
 * over to a replica and resume), and a RabbitMQ restart under a router on the bus input. Nothing
 * is lost; nothing runs twice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { MysqlEventStoreDriver } from '@ctlplane/adapters/mysql';
import { WsConnector, WsTransportServer } from '@ctlplane/adapters/ws';
import { BusInput, EventRouter, EventStore, StorePollInput } from '@ctlplane/core';
import { connect } from 'amqplib';
import { afterAll, afterEach, expect, it } from 'vitest';
import {
  countDone,
  keyring,
  Ledger,
  memoryStore,
  placeEvents,
  type Types,
  testAgent,
  types,
  until,
} from '../integration/fixtures/router-kit.js';
import { TestRelay } from '../integration/fixtures/router-relay.js';
import { dropPrefixed, testPool, uniquePrefix } from '../support/mysql.js';
import { ensureBrokerUp, rabbitmqctl } from '../support/rabbitmq.js';
import { describeWith } from '../support/requires.js';
import { amqpUrl, mysqlUrl } from '../support/services.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function spawnRouter(prefix: string): Promise<{ child: ChildProcess; url: string }> {
  const script = join(import.meta.dirname, '../integration/fixtures/router-child.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, prefix, '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, CTLPLANE_MYSQL_URL: mysqlUrl() },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`router child exited with ${code}`)));
  });
}

describeWith('mysql', 'EventRouter process killed', () => {
  const prefix = uniquePrefix('rk');
  const admin = testPool({ connectionLimit: 1 });
  afterAll(async () => {
    await dropPrefixed(admin, prefix);
    await admin.end();
  });

  it('agents of a SIGKILLed router fail over to a replica and lose nothing', async () => {
    const driver = new MysqlEventStoreDriver({
      url: mysqlUrl(),
      tablePrefix: prefix,
      poolSize: 4,
      migrate: true,
    });
    await driver.ready();
    const store = new EventStore<Types>({ driver, types });
    cleanups.push(() => store.close());
    const { child, url: childUrl } = await spawnRouter(prefix);
    cleanups.push(async () => {
      child.kill('SIGKILL');
    });
    const replica = new EventRouter({
      store,
      region: 'r1',
      auth: keyring(),
      input: new StorePollInput({ store, pollMs: 50 }),
    });
    const server = new WsTransportServer();
    await replica.listen(server);
    cleanups.push(() => replica.close());

    const ledger = new Ledger();
    const servers = Array.from({ length: 10 }, (_, i) => `hv-${i}`);
    const agents = servers.map((serverId) =>
      testAgent({ serverId, urls: [childUrl, server.url], connector: new WsConnector(), ledger }),
    );
    for (const a of agents) cleanups.push(() => a.stop());
    await Promise.all(agents.map((a) => a.start()));
    expect(agents.every((a) => a.routerId === 'child-router')).toBe(true);

    const pick = (i: number) => servers[i % servers.length]!;
    const placing = (async () => {
      for (let round = 0; round < 10; round++) {
        await placeEvents(store, 50, pick);
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    await until(async () => (await countDone(store)) >= 100, 'work under way', 60_000);
    child.kill('SIGKILL');
    await placing;
    await until(async () => (await countDone(store)) === 500, 'all 500 done', 120_000);
    expect(agents.every((a) => a.routerId === replica.id)).toBe(true);
    expect(ledger.foreign).toEqual([]);
    expect(ledger.runs.size).toBe(500);
    // At most recognisable redeliveries: work the dead router's agents already ran is not rerun
    // unless it was left running, and then the handler was told so.
    for (const [id, n] of ledger.runs) if (n > 1) expect(ledger.redeliveries, `event ${id}`).toContain(id);
  });
});

describeWith('amqp', 'EventRouter on the bus across a broker restart', () => {
  const tag = randomBytes(4).toString('hex');
  const exchange = `ctl.router-disruptive.${tag}`;
  const queue = `router.r1.${tag}`;
  afterAll(async () => {
    await ensureBrokerUp();
    const c = await connect(amqpUrl());
    c.on('error', () => {});
    const ch = await c.createChannel();
    ch.on('error', () => {});
    for (const q of [queue, `${queue}.dead-letter`]) await ch.deleteQueue(q);
    for (const e of [exchange, `${exchange}.dead-letter`]) await ch.deleteExchange(e);
    await c.close();
  });

  it('loses nothing when RabbitMQ restarts under the pushed input', async () => {
    const store = memoryStore();
    const bus = new AmqpBus({
      urls: amqpUrl(),
      topology: { exchange },
      connectionName: 'ctlplane-router-disruptive',
    });
    cleanups.push(() => bus.close());
    await bus.ready();
    const relay = new TestRelay(store, bus);
    relay.start();
    cleanups.push(() => relay.stop());
    const router = new EventRouter({
      store,
      region: 'r1',
      auth: keyring(),
      input: new BusInput({ bus, queue }),
    });
    const server = new WsTransportServer();
    await router.listen(server);
    cleanups.push(() => router.close());
    const ledger = new Ledger();
    const servers = Array.from({ length: 6 }, (_, i) => `hv-${i}`);
    const agents = servers.map((serverId) =>
      testAgent({ serverId, urls: [server.url], connector: new WsConnector(), ledger }),
    );
    for (const a of agents) cleanups.push(() => a.stop());
    await Promise.all(agents.map((a) => a.start()));

    await placeEvents(store, 100, (i) => servers[i % 6]!);
    await until(async () => (await countDone(store)) === 100, 'first 100 done', 60_000);
    await rabbitmqctl('stop_app');
    await placeEvents(store, 100, (i) => servers[i % 6]!); // committed while the broker is down
    await rabbitmqctl('start_app');
    await ensureBrokerUp();
    await placeEvents(store, 100, (i) => servers[i % 6]!);
    await until(async () => (await countDone(store)) === 300, 'all 300 done', 120_000);
    expect(router.stats().dbQueries.readFeed).toBeLessThanOrEqual(2); // the start-up catch-up only
    for (const [id, n] of ledger.runs) expect(n, `event ${id}`).toBe(1);
    expect(ledger.runs.size).toBe(300);
  });
});
