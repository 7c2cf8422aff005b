/**
 * The agent's side of the WebSocket transport.
 *
 * @module
 */
import type { SecureContextOptions } from 'node:tls';
import {
  MAX_ROUTER_FRAME_BYTES,
  maskSecrets,
  type TransportConnector,
  UnavailableError,
} from '@ctlplane/core';
import { parseOrThrow, type TransportConnection } from '@ctlplane/core/driver';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { WsConnection } from './ws-connection.js';

/** Options of {@link WsConnector}. */
export interface WsConnectorOptions {
  /** TLS for `wss://` URLs: `ca` to trust a private CA, `cert`/`key` for client certificates, `servername`. */
  tls?: SecureContextOptions & { servername?: string; rejectUnauthorized?: boolean };
  /** How long the opening handshake may take (default 10,000 ms). */
  handshakeTimeoutMs?: number;
  /** Largest frame accepted from a router, in bytes (default {@link MAX_ROUTER_FRAME_BYTES}, 64 MiB: what a router may send). */
  maxPayload?: number;
  /** After a close, a router that does not answer within this long is cut off (default 5,000 ms). */
  closeTimeoutMs?: number;
}

const schema = z
  .object({
    tls: z.object({}).passthrough().optional(),
    handshakeTimeoutMs: z.number().int().min(1).max(600_000).default(10_000),
    maxPayload: z
      .number()
      .int()
      .min(1_024)
      .max(1024 ** 3)
      .default(MAX_ROUTER_FRAME_BYTES),
    closeTimeoutMs: z.number().int().min(1).max(600_000).default(5_000),
  })
  .strict();

/**
 * Connects agents to routers over WebSocket (`ws://` or `wss://`).
 *
 * @example
 * ```ts
 * const agent = new Agent({ connector: new WsConnector({ tls: { ca } }), urls: ['wss://router.nyc1:7100/agents'], ... });
 * ```
 */
export class WsConnector implements TransportConnector {
  readonly #o: z.output<typeof schema>;
  readonly #tls: WsConnectorOptions['tls'];

  /** @param options - TLS and limits; validated here */
  constructor(options: WsConnectorOptions = {}) {
    this.#o = parseOrThrow(schema, options, 'WsConnector options');
    this.#tls = options.tls;
  }

  /** Open a connection. @throws UnavailableError (transient) when the router cannot be reached */
  connect(url: string, signal?: AbortSignal): Promise<TransportConnection> {
    const o = this.#o;
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url, {
          ...this.#tls,
          handshakeTimeout: o.handshakeTimeoutMs,
          maxPayload: o.maxPayload,
          perMessageDeflate: false,
        });
      } catch (err) {
        reject(new UnavailableError(`cannot connect to ${maskSecrets(url).slice(0, 200)}`, { cause: err }));
        return;
      }
      const abort = (): void => ws.terminate();
      signal?.addEventListener('abort', abort, { once: true });
      const fail = (err: Error): void => {
        signal?.removeEventListener('abort', abort);
        reject(
          new UnavailableError(
            `cannot connect to ${maskSecrets(url).slice(0, 200)}: ${maskSecrets(err.message)}`,
            {
              cause: err,
              transient: true,
            },
          ),
        );
      };
      ws.once('error', fail);
      ws.once('close', () => fail(new Error('closed during handshake')));
      ws.once('open', () => {
        signal?.removeEventListener('abort', abort);
        ws.removeAllListeners('error');
        ws.removeAllListeners('close');
        resolve(new WsConnection(ws, maskSecrets(url), o.closeTimeoutMs));
      });
    });
  }
}
