/**
 * Every frame an agent sends is bounded in bytes and depth before it is parsed, an unauthenticated
 * connection gets a hello-sized budget, and a refused frame closes only its own connection with
 * 4004 and a reason naming the field and the rule (issue 13, findings 1 and 6).
 */
import { CLOSE_CODES } from '@ctlplane/core';
import { describe, expect, it } from 'vitest';
import { frameLimitIssue } from '../../packages/core/src/router/frame-limits.js';
import { metricsSchema } from '../../packages/core/src/router/protocol.js';
import { cleanupAfterEach } from '../integration/fixtures/router-harness.js';
import {
  countDone,
  keyring,
  Ledger,
  placeEvents,
  testAgent,
  until,
} from '../integration/fixtures/router-kit.js';
import { RawInProc, startInProcRouter } from '../integration/fixtures/router-raw.js';

const cleanups = cleanupAfterEach();
const setup = () => startInProcRouter(cleanups);

/** `{"a":{"a":…1…}}` nested `depth` deep, as text (never built as a value: that would recurse). */
const nested = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const deepAck = (depth: number): string =>
  `{"type":"ack","acks":[{"id":1,"status":"done","result":${nested(depth)}}]}`;

describe('frameLimitIssue', () => {
  const budget = { maxBytes: 100, maxDepth: 3, maxMembers: 3 };

  it('measures depth and members outside strings only, escapes included', () => {
    expect(frameLimitIssue('{"a":[1,2,3]}', budget)).toBeNull();
    expect(frameLimitIssue('{"a":"[[[[[,,,,,\\"[[[["}', budget)).toBeNull();
    expect(frameLimitIssue('{"a":[[[1]]]}', budget)).toMatch(/deeper than 3 levels/);
    expect(frameLimitIssue('[1,2,3,4]', budget)).toMatch(/more than 3 items/);
    expect(frameLimitIssue('{"a":[1,2,3],"b":[4,5,6]}', budget)).toBeNull();
  });

  it('counts bytes as UTF-8', () => {
    expect(frameLimitIssue(`"${'é'.repeat(50)}"`, budget)).toMatch(/larger than 100 bytes/);
    expect(frameLimitIssue(`"${'é'.repeat(49)}"`, budget)).toBeNull();
  });

  it('walks a 1 MiB, 500,000-deep frame without recursion', () => {
    expect(frameLimitIssue('['.repeat(500_000), { ...budget, maxBytes: 1 << 20 })).toMatch(/deeper/);
  });
});

describe('EventRouter frame bounds', () => {
  it('regression(13.1): a deeply nested ack closes only its connection, before and after hello; the router serves on', async () => {
    const { store, transport } = await setup();
    // The attack of the issue: ~1,700 deep, 3.4 KB, no hello. It used to overflow zod's stack.
    const anonymous = await RawInProc.open(transport);
    anonymous.send(deepAck(1_700));
    expect(await anonymous.whenClosed()).toEqual({
      code: CLOSE_CODES['protocol-error'],
      reason: 'frame must not nest deeper than 1 levels before hello',
    });
    const welcomed = await RawInProc.open(transport);
    await welcomed.hello('hv-evil');
    welcomed.send(deepAck(100_000));
    expect(await welcomed.whenClosed()).toEqual({
      code: CLOSE_CODES['protocol-error'],
      reason: 'frame must not nest deeper than 67 levels',
    });
    const ledger = new Ledger();
    const good = testAgent({ serverId: 'hv-good', urls: ['inproc://r1'], connector: transport, ledger });
    cleanups.push(() => good.stop());
    await good.start();
    await placeEvents(store, 5, () => 'hv-good');
    await until(async () => (await countDone(store)) === 5, 'the good agent ran its events');
  });

  it('regression(13.6): an unauthenticated connection may send one small hello; a heartbeat is refused unparsed', async () => {
    const { transport, router } = await setup();
    const metrics = Object.fromEntries(Array.from({ length: 75_000 }, (_, i) => [`m${i}`, i]));
    const flood = await RawInProc.open(transport);
    flood.send({ type: 'heartbeat', at: 1, metrics });
    expect((await flood.whenClosed()).reason).toBe('frame larger than 16384 bytes before hello');
    const nested = await RawInProc.open(transport);
    nested.send({ type: 'heartbeat', at: 1, metrics: {} });
    expect((await nested.whenClosed()).reason).toBe('frame must not nest deeper than 1 levels before hello');
    const flat = await RawInProc.open(transport);
    flat.send({ type: 'snapshot' });
    expect((await flat.whenClosed()).reason).toBe('expected hello, got "snapshot"');
    expect(router.stats().disconnects['protocol-error']).toBe(3);
  });

  it('regression(13.6): counts a heartbeat’s metrics before parsing any of them', () => {
    let reads = 0;
    const metrics: Record<string, number> = {};
    for (let i = 0; i < 100_000; i++)
      Object.defineProperty(metrics, `m${i}`, {
        enumerable: true,
        get: () => {
          reads++;
          return i;
        },
      });
    const parsed = metricsSchema.safeParse(metrics);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues).toEqual([
      expect.objectContaining({ message: 'must be an object of at most 64 metrics' }),
    ]);
    expect(reads).toBe(0);
    expect(metricsSchema.parse({ load: 1 })).toEqual({ load: 1 });
  });

  it('names the field and the rule of an invalid frame', async () => {
    const { transport } = await setup();
    const raw = await RawInProc.open(transport);
    await raw.hello('hv-1');
    raw.send({ type: 'ack', acks: [{ id: -1, status: 'done' }] });
    expect((await raw.whenClosed()).reason).toBe('invalid "ack" frame: acks.0.id: must be positive');
    const other = await RawInProc.open(transport);
    await other.hello('hv-2');
    other.send({ type: 'bogus' });
    expect((await other.whenClosed()).reason).toMatch(/^invalid "bogus" frame: type: Invalid discriminator/);
  });

  it('refuses a second frame while the hello is being checked, unparsed', async () => {
    const { transport } = await setup();
    const raw = await RawInProc.open(transport);
    raw.send({
      type: 'hello',
      protocol: 1,
      token: keyring().sign({ serverId: 'hv-1', region: 'r1' }),
      serverId: 'hv-1',
      cursor: null,
    });
    raw.send('not even JSON');
    expect((await raw.whenClosed()).reason).toBe('frame before welcome');
  });
});
