/**
 * Secrets never reach logs, events or error messages: database and broker URLs with passwords
 * (to a closed port and with a wrong password), Harpoon bearer tokens, agent tokens and HMAC keys.
 * Every line of an injected logger, every emitted event and every error (message, stack and cause
 * chain, as `util.inspect` prints it) is scanned for the secret strings.
 */
import { inspect } from 'node:util';
import { AmqpBus } from '@ctlplane/adapters/amqp';
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { MysqlEventStoreDriver, migrate } from '@ctlplane/adapters/mysql';
import { WsConnector, WsTransportServer } from '@ctlplane/adapters/ws';
import {
  Agent,
  AgentKeyring,
  EventRouter,
  EventStore,
  Harpoon,
  HarpoonClient,
  HarpoonHttpServer,
  StorePollInput,
} from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { describeWith } from '../support/requires.js';
import { deepArrayJson } from './fixtures/security-arbitraries.js';
import { httpRequest } from './fixtures/security-http.js';
import { RecordingLogger, safeJson, until } from './fixtures/security-kit.js';

const PW = 'pw-S3cr3t-7c1e9a';
const TOKEN = 'harpoon-token-S3cr3t-0123456789';
const HMAC = 'hmac-key-S3cr3t-0123456789abcdef0123';

/** Everything an operator could see of an error: message, stack, cause chain and own fields. */
const shown = (err: unknown): string => `${inspect(err, { depth: 8 })}\n${safeJson(err)}`;

function expectNoSecret(where: string, text: string, secrets: readonly string[] = [PW, TOKEN, HMAC]): void {
  for (const s of secrets)
    expect(text.includes(s), `${where} contains ${s}:\n${text.slice(0, 2_000)}`).toBe(false);
}

describeWith('mysql', 'secrets: MySQL URLs', () => {
  it('a password in the URL of an unreachable database is in no error and no log line', async () => {
    const log = new RecordingLogger('mysql');
    const url = `mysql://ctl:${PW}@127.0.0.1:1/test`;
    const driver = new MysqlEventStoreDriver({ url, connectTimeoutMs: 1_000, logger: log });
    const store = new EventStore({ driver, types: testTypes, logger: log, retries: 1 });
    const retries: string[] = [];
    store.on('store:retry', (e) => retries.push(shown(e.error)));
    const appendErr = await store.append([create(1)]).catch((e: unknown) => e);
    const migrateErr = await migrate({ url, connectTimeoutMs: 1_000, logger: log }).catch((e: unknown) => e);
    await store.close();
    expect(appendErr).toMatchObject({ code: 'UNAVAILABLE' });
    expect(migrateErr).toMatchObject({ code: 'UNAVAILABLE' });
    expectNoSecret('append error', shown(appendErr));
    expectNoSecret('migrate error', shown(migrateErr));
    expectNoSecret('store:retry events', retries.join('\n'));
    expectNoSecret('logs', log.text());
  });

  it('a wrong password to a live database is in no error and no log line', async () => {
    const log = new RecordingLogger('mysql');
    const url = `mysql://ctl_intruder:${PW}@127.0.0.1:3306/test`;
    const err = await migrate({ url, logger: log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expectNoSecret('migrate error', shown(err));
    expectNoSecret('logs', log.text());
  });
});

describeWith('amqp', 'secrets: AMQP URLs', () => {
  it('a password in the URL of an unreachable broker is in no error, event or log line', async () => {
    const log = new RecordingLogger('amqp');
    const bus = new AmqpBus({
      urls: [`amqp://guest:${PW}@127.0.0.1:1`, `amqps://guest:${PW}@127.0.0.1:2/vhost`],
      logger: log,
      reconnect: { initialMs: 5, maxMs: 20 },
      publishTimeoutMs: 300,
      closeTimeoutMs: 100,
    });
    const events: string[] = [];
    for (const name of ['bus:reconnecting', 'bus:disconnected', 'bus:connected'] as const)
      bus.on(name, (e: unknown) => events.push(`${name} ${shown(e)}`));
    await until(() => events.length >= 4, 'a few reconnect attempts');
    const err = await bus.publish({ routingKey: 'a.b', body: { x: 1 } }).catch((e: unknown) => e);
    await bus.close();
    expect(err).toMatchObject({ code: expect.stringMatching(/UNAVAILABLE|CLOSED/) });
    expectNoSecret('publish error', shown(err));
    expectNoSecret('events', events.join('\n'));
    expectNoSecret('logs', log.text());
  });

  it('a wrong password to a live broker fails ready() with UNAUTHORIZED and shows no password', async () => {
    const log = new RecordingLogger('amqp');
    const bus = new AmqpBus({ urls: `amqp://guest:${PW}@127.0.0.1:5672`, logger: log, closeTimeoutMs: 100 });
    const err = await bus.ready().catch((e: unknown) => e);
    await bus.close();
    expect(err).toMatchObject({ code: 'UNAUTHORIZED' });
    expectNoSecret('ready error', shown(err));
    expectNoSecret('logs', log.text());
  });
});

describe('secrets: Harpoon tokens', () => {
  it('a bearer token is in no client error and no server log line, even on a 500', async () => {
    const log = new RecordingLogger('harpoon');
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
    const harpoon = new Harpoon<TestSchemas>({ store, logger: log });
    const server = new HarpoonHttpServer({
      harpoon,
      tokens: [{ service: 'api', token: TOKEN }],
      logger: log,
    });
    await server.listen();
    try {
      const good = new HarpoonClient<TestSchemas>({ url: server.url, token: TOKEN });
      const bad = new HarpoonClient<TestSchemas>({ url: server.url, token: `${TOKEN}-wrong` });
      const closed = new HarpoonClient<TestSchemas>({
        url: 'http://127.0.0.1:1',
        token: TOKEN,
        timeoutMs: 500,
      });
      await good.create(create(1));
      const errors = await Promise.all([
        bad.head().catch((e: unknown) => e),
        closed.head().catch((e: unknown) => e),
        good
          .create({ type: 'droplet.create', payload: { vcpus: TOKEN }, region: 'r' } as never)
          .catch((e: unknown) => e),
      ]);
      expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
        'UNAUTHORIZED',
        'UNAVAILABLE',
        'VALIDATION',
      ]);
      // A request that makes the server fail (and log an error line), sent with the token.
      await httpRequest(server.url, {
        method: 'POST',
        path: '/v1/events',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: `{"event":{"type":"blob","region":"r","payload":{"data":"x","nested":${deepArrayJson(5_000)}}}}`,
      });
      for (const e of errors) expectNoSecret('client error', shown(e), [TOKEN]);
      expectNoSecret('server logs', log.text(), [TOKEN]);
    } finally {
      await server.close();
      await harpoon.close();
      await store.close();
    }
  });

  it('regression(harpoon-client-url-credentials): a password in HarpoonClient’s URL is not in its error', async () => {
    // Found by this suite: fetch refuses URLs with credentials, and its TypeError message (kept
    // verbatim after the masked URL) repeated the full URL: "Request cannot be constructed from a
    // URL that includes credentials: http://svc:<password>@…/v1/head".
    const client = new HarpoonClient({ url: `http://svc:${PW}@127.0.0.1:1`, token: TOKEN });
    const err = await client.head().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE' });
    expectNoSecret('client error message', (err as Error).message, [PW]);
  });
});

describe('secrets: agent tokens and HMAC keys', () => {
  it('no token and no signing key reaches the router’s or the agent’s logs and events', async () => {
    const routerLog = new RecordingLogger('router');
    const agentLog = new RecordingLogger('agent');
    const keyring = new AgentKeyring({ keys: [{ kid: 'k1', secret: HMAC }] });
    const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
    const router = new EventRouter({
      store,
      region: 'r1',
      auth: keyring,
      logger: routerLog,
      input: new StorePollInput({ store, pollMs: 20 }),
    });
    const server = new WsTransportServer();
    await router.listen(server);
    const events: string[] = [];
    for (const name of [
      'router:agent:rejected',
      'router:agent:connected',
      'router:agent:disconnected',
    ] as const)
      router.on(name, (e: unknown) => events.push(`${name} ${shown(e)}`));
    const token = keyring.sign({ serverId: 'hv-1', region: 'r1' });
    const forged = new AgentKeyring({ keys: [{ kid: 'k1', secret: `${HMAC}-forged` }] }).sign({
      serverId: 'hv-1',
      region: 'r1',
    });
    const ran = new Set<number>();
    const agent = new Agent<TestSchemas>({
      serverId: 'hv-1',
      token,
      urls: [server.url],
      connector: new WsConnector(),
      logger: agentLog,
      handlers: { 'droplet.create': (e) => void ran.add(e.id) },
    });
    const intruder = new Agent<TestSchemas>({
      serverId: 'hv-1',
      token: forged,
      urls: [server.url],
      connector: new WsConnector(),
      logger: agentLog,
      handlers: {},
    });
    for (const a of [agent, intruder])
      for (const name of ['agent:rejected', 'agent:disconnected', 'agent:error'] as const)
        a.on(name, (e: unknown) => events.push(`${name} ${shown(e)}`));
    try {
      await agent.start();
      const intruderErr = await intruder.start().catch((e: unknown) => e);
      const [e] = await store.append([create(1, { region: 'r1', serverId: 'hv-1' })]);
      await until(() => ran.has(e!.id), 'the agent ran its event');
      expect(intruderErr).toMatchObject({ code: 'UNAUTHORIZED' });
      const secrets = [HMAC, token, forged];
      expectNoSecret('intruder error', shown(intruderErr), secrets);
      expectNoSecret('router logs', routerLog.text(), secrets);
      expectNoSecret('agent logs', agentLog.text(), secrets);
      expectNoSecret('events', events.join('\n'), secrets);
      expectNoSecret('keyring as printed', `${inspect(keyring, { depth: 5 })}${JSON.stringify(keyring)}`, [
        HMAC,
      ]);
      expect(routerLog.lines.length).toBeGreaterThan(0);
    } finally {
      await agent.stop();
      await intruder.stop();
      await router.close();
      await store.close();
    }
  });

  it('regression(agent-url-credentials): a password in a router URL is in no agent log line or event', async () => {
    // Found by this suite: with basic auth in front of a router (wss://user:pass@router/agents),
    // the agent logged the URL and WsConnector's "cannot connect to <url>" unmasked.
    const log = new RecordingLogger('agent');
    const agent = new Agent<TestSchemas>({
      serverId: 'hv-1',
      token: 'unused-token',
      urls: [`ws://agent:${PW}@127.0.0.1:1/agents`],
      connector: new WsConnector(),
      logger: log,
      handlers: {},
      backoff: { initialMs: 5, maxMs: 20 },
    });
    const events: string[] = [];
    agent.on('agent:disconnected', (e) => events.push(shown(e)));
    void agent.start().catch(() => {});
    await until(() => events.length >= 2, 'two failed connection attempts');
    await agent.stop();
    expectNoSecret('agent logs', log.text(), [PW]);
    expectNoSecret('agent:disconnected events', events.join('\n'), [PW]);
  });

  it('regression(agent-url-credentials): WsConnector’s own connect error does not carry the URL’s password', async () => {
    // WsConnector is public too: its UnavailableError ("cannot connect to <url>") must be masked.
    const err = await new WsConnector()
      .connect(`ws://agent:${PW}@127.0.0.1:1/agents`)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAVAILABLE' });
    expectNoSecret('connect error message', (err as Error).message, [PW]);
  });
});
