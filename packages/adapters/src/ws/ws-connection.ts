/**
 * A `ws` WebSocket as a ctlplane {@link TransportConnection}.
 *
 * @internal
 * @module
 */
import type { ConnectionReceiver, TransportConnection } from '@ctlplane/core/driver';
import type { RawData, WebSocket } from 'ws';

/** @internal Unsent bytes past which a closing connection stops reading its peer. */
export const MAX_BUFFERED_AT_CLOSE = 64 * 1024;
/** How often a paused, closing connection looks whether its queued bytes have gone out. */
const RESUME_CHECK_MS = 50;
/**
 * @internal Frames a peer may send after our close frame (ones already in flight) before nothing
 * more is read from it until it is cut off at `closeTimeoutMs`: a peer that ignores the close and
 * floods would otherwise cost a frame decode each until then. (Cutting it off at once would reset
 * the connection over its unread frames, and the peer could lose the close frame and its reason.)
 */
export const MAX_FRAMES_AFTER_CLOSE = 256;

/** @internal */
export class WsConnection implements TransportConnection {
  readonly remoteAddress: string;
  readonly #ws: WebSocket;
  readonly #closeTimeoutMs: number;
  #receiver: ConnectionReceiver | null = null;
  #early: string[] = [];
  #ended: { code: number; reason: string } | null = null;
  #closing = false;
  #framesAfterClose = 0;
  /** Reading stopped for good: the peer sent too much after our close. */
  #deaf = false;
  /** The close timers, cleared once the socket closed (they would hold the session until then). */
  readonly #timers: ReturnType<typeof setTimeout>[] = [];

  constructor(ws: WebSocket, remoteAddress: string, closeTimeoutMs: number) {
    this.#ws = ws;
    this.remoteAddress = remoteAddress;
    this.#closeTimeoutMs = closeTimeoutMs;
    ws.on('message', (data: RawData) => {
      // After our close frame, nothing the peer sends is acted on: a peer that ignores the close
      // and keeps sending would otherwise keep costing a parse per frame until it is cut off.
      if (this.#closing) {
        if (++this.#framesAfterClose > MAX_FRAMES_AFTER_CLOSE && !this.#deaf) {
          this.#deaf = true;
          ws.pause();
        }
        return;
      }
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString('utf8');
      if (this.#receiver) this.#deliver(this.#receiver, text);
      else this.#early.push(text);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#ended = { code, reason: reason.toString('utf8') };
      this.#receiver?.closed(code, this.#ended.reason);
    });
    // Errors are followed by 'close'; the reason reaches the receiver there.
    ws.on('error', () => {});
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  send(text: string): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(text);
  }

  close(code: number, reason: string): void {
    if (this.#closing || this.#ended) return;
    this.#closing = true;
    // Close reasons are at most 123 bytes on the wire.
    const short = Buffer.from(reason, 'utf8')
      .subarray(0, 123)
      .toString('utf8')
      .replace(/\uFFFD$/, '');
    try {
      this.#ws.close(code, short);
    } catch {
      this.#ws.terminate();
    }
    // A peer with more unsent bytes queued than a reading peer leaves (a slow consumer's) gets
    // its close frame late or never, and may keep sending meanwhile: read nothing more from it
    // until what was queued has gone out, then read on, so its answer to the close is seen.
    if (this.#ws.bufferedAmount > MAX_BUFFERED_AT_CLOSE) {
      this.#ws.pause();
      const drained = setInterval(() => {
        if (this.#ws.bufferedAmount > MAX_BUFFERED_AT_CLOSE) return;
        clearInterval(drained);
        if (!this.#deaf) this.#ws.resume();
      }, RESUME_CHECK_MS);
      drained.unref();
      this.#timers.push(drained);
    }
    // A peer that does not answer the close handshake (stuck, gone) is cut off.
    const cutOff = setTimeout(() => this.#ws.terminate(), this.#closeTimeoutMs);
    cutOff.unref();
    this.#timers.push(cutOff);
  }

  bind(receiver: ConnectionReceiver): void {
    this.#receiver = receiver;
    const early = this.#early;
    this.#early = [];
    for (const text of early) this.#deliver(receiver, text);
    if (this.#ended) receiver.closed(this.#ended.code, this.#ended.reason);
  }

  /** A receiver that throws ends this connection (1011), never the process: ws would rethrow from its socket. */
  #deliver(receiver: ConnectionReceiver, text: string): void {
    try {
      receiver.message(text);
    } catch {
      this.close(1011, 'frame handling failed');
    }
  }
}
