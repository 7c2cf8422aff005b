/**
 * Reading a request body: bounded in bytes while it arrives (a declared length over the limit is
 * refused before a byte is read), then bounded in depth by an iterative scan of the raw text, and
 * only then parsed. Every failure is a typed error the server answers.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { ValidationError } from '../../errors.js';
import { MAX_JSON_DEPTH } from '../../events/json-check.js';
import { parseBoundedJson } from '../../json-bounds.js';
import { MAX_HTTP_BATCH } from './server-options.js';

/**
 * @internal Deepest body accepted: the envelope (`{ events: [ { payload` is three levels) plus
 * the deepest payload or result the store accepts. Anything deeper would be refused by the store;
 * refusing it here means zod and `JSON.stringify` never walk it.
 */
export const MAX_BODY_DEPTH = MAX_JSON_DEPTH + 3;

/**
 * @internal Bounds of every body, checked on the raw bytes: depth, and the items of the top two
 * levels (the envelope and its `events`/`transitions` list). The item bound is twice the lists'
 * own: a list just over `MAX_HTTP_BATCH` is parsed (cheaply) so that zod's bound names the field,
 * a far longer one never reaches `JSON.parse`. Lists inside payloads and results are bounded by
 * bytes only.
 */
const BODY_BOUNDS = { maxDepth: MAX_BODY_DEPTH, maxItems: 2 * MAX_HTTP_BATCH, maxItemsDepth: 2 };

/** @internal A body over `maxBodyBytes`: answered 413, and the connection is closed. */
export class BodyTooLargeError extends ValidationError {
  readonly status = 413;

  constructor(limit: number) {
    super(`body: larger than ${limit} bytes`, [{ path: 'body', message: `larger than ${limit} bytes` }]);
  }
}

/** @internal The caller went away before its request was read: nothing to answer, nothing to report. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection');
  }
}

/** @internal The JSON body of `req` (null when empty), within `limit` bytes and `MAX_BODY_DEPTH`. */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (err: Error): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      // Read no further: the answer carries `Connection: close` and ends the connection.
      req.pause();
      reject(err);
    };
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) stop(new BodyTooLargeError(limit));
      else chunks.push(c);
    };
    const onEnd = (): void => {
      try {
        const bytes = Buffer.concat(chunks, size);
        resolve(size === 0 ? null : parseBoundedJson(bytes, BODY_BOUNDS, 'body'));
      } catch (err) {
        reject(err);
      }
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.once('error', () => stop(new ClientGoneError()));
    req.once('close', () => {
      if (!req.complete) stop(new ClientGoneError());
    });
  });
}
