/**
 * The Agent against a scripted router on the in-process transport: redeliveries recognised by
 * (id, version), unconfirmed acks re-sent after a reconnect, failover between URLs, a malformed
 * router frame, cancellation.
 */
import { Agent, defineEventTypes, InProcessTransport, type StoredEvent } from '@ctlplane/core';
import type { ConnectionReceiver, TransportConnection } from '@ctlplane/core/driver';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from '../integration/fixtures/router-kit.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function wire(id: number, version: number, status: StoredEvent['status'] = 'placed', serverId = 'hv-1') {
  const at = new Date(0).toISOString();
  return {
    id,
    type: 'job',
    payload: { id },
    region: 'r1',
    serverId,
    status,
    attempts: 0,
    version,
    seq: id * 10 + version,
    error: null,
    result: null,
    idempotencyKey: null,
    traceContext: null,
    createdAt: at,
    updatedAt: at,
  };
}

/** A router that records what agents send and lets the test script replies. */
class ScriptedRouter {
  readonly received: Array<Record<string, unknown>> = [];
  readonly conns: TransportConnection[] = [];
  constructor(
    transport: InProcessTransport,
    name: string,
    readonly onHello?: (conn: TransportConnection) => void,
  ) {
    void transport.server(name).listen((conn) => {
      this.conns.push(conn);
      const receiver: ConnectionReceiver = {
        message: (text) => {
          const frame = JSON.parse(text) as Record<string, unknown>;
          this.received.push(frame);
          if (frame.type === 'hello') {
            conn.send(
              JSON.stringify({
                type: 'welcome',
                protocol: 1,
                routerId: name,
                region: 'r1',
                serverId: 'hv-1',
                cursor: 0,
                resumed: frame.cursor !== null,
                heartbeatMs: 60_000,
              }),
            );
            this.onHello?.(conn);
          }
        },
        closed: () => {},
      };
      conn.bind(receiver);
    });
  }

  get last(): TransportConnection {
    return this.conns.at(-1)!;
  }

  send(frame: unknown): void {
    this.last.send(JSON.stringify(frame));
  }

  acks(): Array<{ id: number; status: string }> {
    return this.received
      .filter((f) => f.type === 'ack')
      .flatMap((f) => f.acks as Array<{ id: number; status: string }>);
  }
}

function agentFor(
  transport: InProcessTransport,
  urls: string[],
  handle: (e: StoredEvent, signal: AbortSignal) => unknown,
) {
  const agent = new Agent({
    serverId: 'hv-1',
    token: 't',
    urls,
    connector: transport,
    backoff: { initialMs: 5, maxMs: 20 },
    handlers: { job: async (e, ctx) => (await handle(e, ctx.signal)) as undefined },
  });
  cleanups.push(() => agent.stop());
  return agent;
}

describe('Agent', () => {
  it('validates payloads against its type registry before the handler runs', async () => {
    const transport = new InProcessTransport();
    const router = new ScriptedRouter(transport, 'a');
    const ran: unknown[] = [];
    const agent = new Agent({
      serverId: 'hv-1',
      token: 't',
      urls: ['inproc://a'],
      connector: transport,
      types: defineEventTypes({ job: z.object({ id: z.number().int() }) }),
      handlers: {
        job: (e) => {
          ran.push(e.payload.id);
          return undefined;
        },
      },
    });
    cleanups.push(() => agent.stop());
    await agent.start();
    router.send({
      type: 'events',
      cursor: 1,
      events: [wire(1, 1), { ...wire(2, 1), payload: { id: 'two' } }],
    });
    await until(() => router.acks().filter((a) => a.status !== 'running').length === 2, 'two outcomes');
    expect(ran).toEqual([1]);
    const failed = router.received
      .filter((f) => f.type === 'ack')
      .flatMap((f) => f.acks as Array<Record<string, unknown>>)
      .find((a) => a.status === 'failed');
    expect(failed).toMatchObject({ id: 2, error: expect.stringMatching(/payload\.id/) });
  });

  it('recognises redeliveries by id and version and runs each event once', async () => {
    const transport = new InProcessTransport();
    const router = new ScriptedRouter(transport, 'a');
    const ran: number[] = [];
    const redelivered: string[] = [];
    const agent = agentFor(transport, ['inproc://a'], (e) => {
      ran.push(e.id);
    });
    agent.on('agent:redelivery', (e) => redelivered.push(`${e.id}@${e.version}`));
    await agent.start();
    router.send({ type: 'events', cursor: 12, events: [wire(1, 1), wire(2, 1)] });
    router.send({ type: 'events', cursor: 12, events: [wire(1, 1)] }); // exact duplicate
    router.send({ type: 'events', cursor: 13, events: [wire(1, 2, 'running')] }); // echo of its own ack
    await until(() => router.acks().filter((a) => a.status === 'done').length === 2, 'two done acks');
    expect(ran).toEqual([1, 2]);
    expect(redelivered).toEqual(['1@1']);
    expect(agent.cursor).toBe(13);
    expect(router.acks()).toEqual([
      { id: 1, status: 'running' },
      { id: 2, status: 'running' },
      { id: 1, status: 'done' },
      { id: 2, status: 'done' },
    ]);
  });

  it('re-sends unconfirmed acks after a reconnect, and resumes from its cursor', async () => {
    const transport = new InProcessTransport();
    const router = new ScriptedRouter(transport, 'a');
    const agent = agentFor(transport, ['inproc://a'], () => {});
    await agent.start();
    router.send({ type: 'events', cursor: 42, events: [wire(7, 1)] });
    await until(() => router.acks().some((a) => a.status === 'done'), 'done ack');
    expect(agent.pending.acks).toBe(2);
    router.last.close(1006, 'network');
    await until(() => router.received.filter((f) => f.type === 'hello').length === 2, 'second hello');
    const hellos = router.received.filter((f) => f.type === 'hello');
    expect(hellos.map((h) => h.cursor)).toEqual([null, 42]);
    await until(() => router.acks().length === 4, 're-sent acks');
    router.send({
      type: 'acked',
      results: [
        { id: 7, status: 'running', ok: true },
        { id: 7, status: 'done', ok: true },
      ],
    });
    await until(() => agent.pending.acks === 0, 'acks confirmed');
  });

  it('re-sends acks the router answered BUSY', async () => {
    const transport = new InProcessTransport();
    const router = new ScriptedRouter(transport, 'a');
    const agent = agentFor(transport, ['inproc://a'], () => {});
    await agent.start();
    router.send({ type: 'events', cursor: 1, events: [wire(3, 1)] });
    await until(() => router.acks().length === 2, 'acks');
    router.send({ type: 'acked', results: [{ id: 3, status: 'done', ok: false, code: 'BUSY' }] });
    await until(() => router.acks().length === 3, 'busy ack re-sent');
    expect(router.acks()[2]).toEqual({ id: 3, status: 'done' });
  });

  it('fails over to the next URL when its router goes away', async () => {
    const transport = new InProcessTransport();
    const a = new ScriptedRouter(transport, 'a');
    const b = new ScriptedRouter(transport, 'b');
    const agent = agentFor(transport, ['inproc://a', 'inproc://b'], () => {});
    const routers: string[] = [];
    agent.on('agent:connected', (e) => routers.push(e.routerId));
    await agent.start();
    a.last.close(4008, 'router is shutting down');
    await until(() => routers.length === 2, 'reconnected');
    expect(routers).toEqual(['a', 'b']);
    expect(b.received[0]).toMatchObject({ type: 'hello', serverId: 'hv-1' });
  });

  it('closes on a malformed router frame with protocol-error and reconnects', async () => {
    const transport = new InProcessTransport();
    const router = new ScriptedRouter(transport, 'a');
    const agent = agentFor(transport, ['inproc://a'], () => {});
    const reasons: string[] = [];
    agent.on('agent:disconnected', (e) => reasons.push(e.reason));
    await agent.start();
    router.send({ type: 'events', cursor: 'soon', events: 'many' });
    await until(() => reasons.length === 1 && agent.connected, 'reconnected');
    expect(reasons).toEqual(['protocol-error']);
  });

  it('aborts a running handler when its event is cancelled, and acknowledges nothing more', async () => {
    const transport = new InProcessTransport();
    const router = new ScriptedRouter(transport, 'a');
    let aborted = false;
    const agent = agentFor(
      transport,
      ['inproc://a'],
      (_e, signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          }),
        ),
    );
    await agent.start();
    router.send({ type: 'events', cursor: 1, events: [wire(5, 1)] });
    await until(() => router.acks().length === 1, 'running ack');
    router.send({ type: 'events', cursor: 2, events: [wire(5, 3, 'cancelled')] });
    await until(() => aborted, 'aborted');
    await new Promise((r) => setImmediate(r));
    expect(router.acks()).toEqual([{ id: 5, status: 'running' }]);
  });

  it('acknowledges failed when the handler throws or the type has no handler', async () => {
    const transport = new InProcessTransport();
    const router = new ScriptedRouter(transport, 'a');
    const agent = agentFor(transport, ['inproc://a'], () => {
      throw new Error('disk full');
    });
    await agent.start();
    router.send({ type: 'events', cursor: 1, events: [wire(8, 1), { ...wire(9, 1), type: 'unknown.kind' }] });
    await until(() => router.acks().filter((a) => a.status === 'failed').length === 2, 'two failures');
    const failed = router.received
      .filter((f) => f.type === 'ack')
      .flatMap((f) => f.acks as Array<Record<string, unknown>>)
      .filter((a) => a.status === 'failed');
    expect(failed.sort((x, y) => Number(x.id) - Number(y.id))).toEqual([
      { id: 8, status: 'failed', error: 'disk full' },
      { id: 9, status: 'failed', error: 'no handler for event type unknown.kind' },
    ]);
  });
});
