/**
 * Changes that can never be published (finding 2): the writes that used to make them are refused
 * at write time, and rows that still cannot be published (stored before the bounds, or larger
 * than the bus carries) are parked while the relay moves on. The relay-stall probe after this
 * attack (and after every other) says whether it did.
 */
import { sleep } from '@ctlplane/core';
import { type Attack, pool, range } from '../attack.js';
import { helloAgent } from '../net.js';
import { CARELESS_SERVER, REGION } from '../types.js';

/** The answer code of a refused call ('ok' when it was accepted). */
async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? (err as Error).name;
  }
}

export const unpublishable: Attack = {
  name: 'unpublishable',
  finding: '2',
  what: 'routing keys over 255 bytes, bodies over the bus limit, 1 MB agent results; legacy rows that cannot be published',
  target: 'harpoon',
  async run(ctx) {
    const c = ctx.careless;
    const long = 'a'.repeat(191);
    const refusedAtWrite = [
      await code(c.create({ type: 'abuse.job', payload: { n: 1 }, region: long, serverId: 's'.repeat(191) })),
      await code(c.create({ type: 'abuse.blob', payload: { data: 'x'.repeat(1_000_000) }, region: REGION })),
    ];
    const target = await c.create({ type: 'abuse.job', payload: { n: 2 }, region: 'abuse-careless' });
    refusedAtWrite.push(
      await code(
        c.transition({
          id: target.id,
          version: target.version,
          to: 'done',
          result: { data: 'x'.repeat(1_000_000) },
        }),
      ),
    );
    ctx.note(`writes over the bounds: ${refusedAtWrite.join(', ')}`);
    ctx.expect(
      refusedAtWrite.every((x) => x === 'VALIDATION'),
      'each over-bound write refused with VALIDATION',
    );

    // An agent's done ack with a 1 MB result: its own event, placed on the careless agent's server.
    const id = `${CARELESS_SERVER}-results`;
    const mine = await c.create({ type: 'abuse.job', payload: { n: 3 }, region: REGION, serverId: id });
    const agent = await helloAgent(ctx.router.url, id, ctx.agentToken(id));
    if (agent) {
      agent.ws.send(
        JSON.stringify({
          type: 'ack',
          acks: [{ id: mine.id, status: 'done', result: { data: 'x'.repeat(300_000) } }],
        }),
      );
      await sleep(1_000);
      const acked = agent.frames.find((f) => (f as { type?: string }).type === 'acked') as
        | { results: { ok: boolean; code?: string }[] }
        | undefined;
      ctx.note(
        `done ack with a 300 kB result: ${acked ? acked.results.map((r) => r.code ?? 'ok').join(',') : 'no answer'}`,
      );
      ctx.expect(
        acked?.results[0]?.code === 'VALIDATION',
        'an oversized result is answered VALIDATION alone',
      );
      agent.ws.send(
        JSON.stringify({
          type: 'ack',
          acks: [{ id: mine.id, status: 'done', result: { data: 'x'.repeat(1_100_000) } }],
        }),
      );
      const closed = await Promise.race([agent.closed, sleep(5_000).then(() => null)]);
      ctx.note(`done ack frame of 1.1 MB: ${closed ? `closed ${closed.code}` : 'kept open'}`);
      ctx.expect(closed?.code === 4004, 'an ack frame over 1 MiB closes 4004');
      agent.ws.terminate();
    } else ctx.expect(false, 'the careless agent was welcomed');

    // Rows the bus can never carry, written as an old version or another tool would have.
    const poison = ctx.quick ? 3 : 10;
    await pool(range(poison), 2, async (i) => {
      await ctx.driver.append([
        i % 2 === 0
          ? {
              type: 'abuse.job',
              payload: { n: i },
              region: long,
              serverId: 's'.repeat(191),
              status: 'placed',
              idempotencyKey: null,
              traceContext: null,
            }
          : {
              type: 'abuse.blob',
              payload: { data: 'z'.repeat(1_200_000) },
              region: REGION,
              serverId: null,
              status: 'pending',
              idempotencyKey: null,
              traceContext: null,
            },
      ]);
    });
    ctx.note(
      `${poison} unpublishable rows written behind Harpoon's back (routing key > 255 bytes, body > 1 MiB)`,
    );
    await sleep(1_000);
  },
};
