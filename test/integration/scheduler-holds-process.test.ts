/**
 * A started Scheduler holds its process open until `stop()`, as a server does: a process whose only
 * job is a scheduler over a `HarpoonClient` (docs/scheduler.md, "Without a database connection for
 * events") has nothing else to keep it alive, since the client's idle keep-alive sockets do not.
 * Before the claim loop's timer was ref'd, such a process exited with code 0 right after
 * `start()`, and placed nothing.
 */
import { MemoryEventStoreDriver } from '@ctlplane/adapters/memory';
import { EventStore, Harpoon, HarpoonHttpServer } from '@ctlplane/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, type TestSchemas, testTypes } from '../contract/event-store.fixtures.js';
import { ExampleProcess } from './fixtures/examples-kit.js';

const FIXTURE = 'test/integration/fixtures/scheduler-only.ts';
const TOKEN = 'scheduler-only-token-0123456789';
/** Many of the scheduler's idle polls (50 ms): long enough for an unheld process to be gone. */
const IDLE_MS = 1_500;

describe('a process whose only job is a Scheduler over a HarpoonClient', () => {
  const store = new EventStore({ driver: new MemoryEventStoreDriver(), types: testTypes });
  const harpoon = new Harpoon<TestSchemas>({ store });
  const server = new HarpoonHttpServer({ harpoon, tokens: [{ service: 'scheduler', token: TOKEN }] });
  const children: ExampleProcess[] = [];

  beforeAll(() => server.listen());
  afterAll(async () => {
    for (const c of children) await c.stop('SIGKILL');
    await server.close();
    await harpoon.close();
    await store.close();
  });

  it('stays alive while idle, places what is appended later, and exits 0 by itself after stop()', async () => {
    const worker = new ExampleProcess(FIXTURE, [server.url, TOKEN, 'nyc1']);
    children.push(worker);
    await worker.waitFor(/^started$/m);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    expect(worker.child.exitCode, worker.stdout).toBeNull();

    const [event] = await store.append([create(1, { region: 'nyc1' })]);
    await worker.waitFor(new RegExp(`^placed ${event!.id}$`, 'm'), 30_000);
    expect((await store.get(event!.id))?.status).toBe('placed');

    worker.child.kill('SIGTERM');
    expect(await worker.exited, `${worker.stdout}\n${worker.stderr}`).toBe(0);
    expect(worker.stdout).toMatch(/^stopped\nexit 0$/m);
  }, 60_000);
});
