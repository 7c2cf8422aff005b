/**
 * A large answer is written in slices: its Content-Length is the sum of its parts, a part of a
 * slice's size or more goes alone (uncopied), and each slice waits for the socket to drain.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { send, WRITE_SLICE_BYTES } from '../../packages/core/src/harpoon/http/reply.js';

/** A response that records writes and reports a full socket every other write. */
class FakeRes extends EventEmitter {
  headersSent = false;
  destroyed = false;
  headers: Record<string, unknown> = {};
  status = 0;
  readonly writes: Buffer[] = [];
  ended = false;
  #full = false;
  setHeader(k: string, v: unknown): void {
    this.headers[k] = v;
  }
  writeHead(status: number, headers: Record<string, unknown>): void {
    this.status = status;
    Object.assign(this.headers, headers);
    this.headersSent = true;
  }
  write(b: Buffer): boolean {
    this.writes.push(b);
    this.#full = !this.#full;
    if (this.#full) setTimeout(() => this.emit('drain'), 1);
    return !this.#full;
  }
  end(b?: Buffer): void {
    if (b) this.writes.push(b);
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

const req = { complete: true, headers: {} } as unknown as IncomingMessage;

describe('reply slices', () => {
  it('writes every byte once, in slices, with the right Content-Length', async () => {
    const big = Buffer.alloc(WRITE_SLICE_BYTES * 2, 'y');
    const parts = [
      '{"events":[',
      Buffer.from('"a"'),
      Buffer.from(','),
      big,
      Buffer.from(','),
      Buffer.from('"b"'),
      ']}',
    ];
    const res = new FakeRes();
    await send(req, res as unknown as ServerResponse, { status: 200, parts });
    const body = Buffer.concat(res.writes);
    const expected = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    expect(body.equals(expected)).toBe(true);
    expect(res.headers['content-length']).toBe(expected.length);
    expect(res.ended).toBe(true);
    // The large part went alone and was not copied.
    expect(res.writes.some((w) => w === big)).toBe(true);
  });

  it('stops writing when the client goes away midway', async () => {
    const parts = Array.from({ length: 8 }, () => Buffer.alloc(WRITE_SLICE_BYTES, 'z'));
    const res = new FakeRes();
    const done = send(req, res as unknown as ServerResponse, { status: 200, parts });
    res.destroy();
    await done;
    expect(res.writes.length).toBeLessThan(8);
    expect(res.ended).toBe(false);
  });
});
