/**
 * Writing answers: JSON with its length, and `Connection: close` whenever the request's body was
 * not read, so that Node closes the connection after the answer instead of reading and discarding
 * the rest of the body (an unread 100 MB body used to be drained in full after a 401).
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** @internal What a route answers: a value to serialize, or JSON it already built. */
export type Reply = { status: number; body: unknown } | { status: number; json: string };

/** @internal True while the request announced a body that has not been read to its end. */
export function bodyUnread(req: IncomingMessage): boolean {
  if (req.complete) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** @internal Send `reply` unless the connection is gone; closes the connection after an unread body. */
export function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const json = 'json' in reply ? reply.json : JSON.stringify(reply.body);
  if (bodyUnread(req)) res.setHeader('connection', 'close');
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}
