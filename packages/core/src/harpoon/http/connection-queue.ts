/**
 * One request at a time per connection. Node's HTTP server emits every pipelined request it has
 * parsed at once; answered concurrently, each answer is built and buffered while a client that
 * never reads them holds them all (2,000 pipelined 1,000-event reads on one socket: 2.7 GiB).
 * Here a connection's requests run in arrival order, each once the previous answer has been
 * handed to the kernel and closed, so a client that stops reading stalls only itself with one
 * answer in memory, and Node stops reading its socket (its writes back up). A connection with
 * more than `maxWaiting` requests queued is closed: its unanswered requests never ran.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface Waiting {
  readonly req: IncomingMessage;
  readonly start: () => void;
}

interface Queue {
  busy: boolean;
  readonly waiting: Waiting[];
}

/**
 * Let the requests waiting on a connection go without an error. Node's server destroys every
 * request still unanswered when the connection closes, each with an `ECONNRESET` error whose stack
 * it formats; a request already destroyed is skipped. 40 connections closing with 200 pipelined
 * requests each cost Harpoon's event loop ~250 ms (with source maps on, as under tsx), and every
 * other caller waited.
 */
function dropWaiting(queue: Queue): void {
  for (const w of queue.waiting.splice(0)) w.req.destroy();
}

/** @internal */
export class ConnectionQueues {
  readonly #queues = new WeakMap<Socket, Queue>();
  readonly #maxWaiting: number;
  readonly #onOverflow: (socket: Socket) => void;

  /**
   * @param maxWaiting - requests a connection may queue behind the running one
   * @param onOverflow - told before an overflowing connection is closed
   */
  constructor(maxWaiting: number, onOverflow: (socket: Socket) => void) {
    this.#maxWaiting = maxWaiting;
    this.#onOverflow = onOverflow;
  }

  /** Run `handle` for this request when its connection's earlier requests are answered. */
  run(req: IncomingMessage, res: ServerResponse, handle: () => void): void {
    const socket = req.socket;
    if (socket.destroyed) {
      // The rest of a chunk Node parsed after the connection was closed: nothing to answer.
      req.destroy();
      return;
    }
    let q = this.#queues.get(socket);
    if (!q) {
      const queue: Queue = { busy: false, waiting: [] };
      // A closed connection's queued requests are dropped unrun (their memory goes with them),
      // before Node's own close handler would abort them one error at a time.
      socket.prependOnceListener('close', () => dropWaiting(queue));
      this.#queues.set(socket, queue);
      q = queue;
    }
    const queue = q;
    const next = (): void => {
      queue.busy = false;
      queue.waiting.shift()?.start();
    };
    const start = (): void => {
      if (socket.destroyed) {
        req.destroy();
        next();
        return;
      }
      queue.busy = true;
      // 'close' follows 'finish' (the answer is with the kernel) or the connection's end.
      res.once('close', next);
      handle();
    };
    if (!queue.busy) start();
    else if (queue.waiting.length < this.#maxWaiting) queue.waiting.push({ req, start });
    else {
      this.#onOverflow(socket);
      dropWaiting(queue);
      req.destroy();
      socket.destroy();
    }
  }
}
