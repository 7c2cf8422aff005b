/**
 * Writing answers: JSON with its length, and `Connection: close` whenever the request's body was
 * not read, so that Node closes the connection after the answer instead of reading and discarding
 * the rest of the body (an unread 100 MB body used to be drained in full after a 401).
 *
 * A large answer (a page of events, up to `maxResponseBytes`) is built as parts and written in
 * slices of about {@link WRITE_SLICE_BYTES}, each once the socket took the previous one: joined
 * and written at once, an 8 MiB page held Harpoon's event loop for ~80 ms (encoding and copying
 * it into the socket) and every other caller waited behind it.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setImmediate as yieldTurn } from 'node:timers/promises';

/**
 * @internal What a route answers: a value to serialize, or JSON it already built as parts to be
 * written one after the other (their concatenation is the answer).
 */
export type Reply =
  | { status: number; body: unknown }
  | { status: number; parts: readonly (string | Buffer)[] };

/** @internal Bytes written to the socket in one go at most (small parts are joined up to it). */
export const WRITE_SLICE_BYTES = 256 * 1024;

/** @internal True while the request announced a body that has not been read to its end. */
export function bodyUnread(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * @internal Send `reply` unless the connection is gone; closes the connection after an unread
 * body. Resolves once the last slice was handed to the socket (at once for a small answer).
 */
export function send(req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<void> {
  if (res.headersSent || res.destroyed) return Promise.resolve();
  const parts = 'parts' in reply ? reply.parts : [JSON.stringify(reply.body)];
  if (bodyUnread(req)) res.setHeader('connection', 'close');
  const buffers = parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));
  let length = 0;
  for (const b of buffers) length += b.length;
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': length,
  });
  if (length <= WRITE_SLICE_BYTES) {
    res.end(buffers.length === 1 ? buffers[0] : Buffer.concat(buffers, length));
    return Promise.resolve();
  }
  // A socket that fails midway is closed; nothing here may reject into the caller's caller.
  return writeSlices(res, buffers).catch(() => {
    res.destroy();
  });
}

async function writeSlices(res: ServerResponse, parts: readonly Buffer[]): Promise<void> {
  for (const slice of slices(parts)) {
    if (res.destroyed) return;
    // Wait for the socket to take the previous slice (or at least for the next turn of the loop),
    // so other requests run between slices and at most one slice waits in memory unsent.
    if (!res.write(slice)) await drained(res);
    else await yieldTurn();
  }
  res.end();
}

/** `parts` regrouped into buffers of about WRITE_SLICE_BYTES; a part of that size or more goes alone, uncopied. */
function* slices(parts: readonly Buffer[]): Generator<Buffer> {
  let group: Buffer[] = [];
  let bytes = 0;
  for (const part of parts) {
    if (part.length >= WRITE_SLICE_BYTES) {
      // A large part goes alone, uncopied, after what was gathered before it.
      if (group.length > 0) yield Buffer.concat(group, bytes);
      group = [];
      bytes = 0;
      yield part;
      continue;
    }
    group.push(part);
    bytes += part.length;
    if (bytes >= WRITE_SLICE_BYTES) {
      yield Buffer.concat(group, bytes);
      group = [];
      bytes = 0;
    }
  }
  if (group.length > 0) yield Buffer.concat(group, bytes);
}

/** Resolves when `res` can take more, or is closed. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
