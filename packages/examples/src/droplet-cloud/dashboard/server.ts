/**
 * The dashboard's HTTP side: the page and its two static files, a server-sent-events stream of
 * snapshots, `/metrics` for Prometheus, and the droplet API under `/api`.
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { CtlplaneMetrics } from '@ctlplane/adapters/prometheus';
import type { Handler } from '../http-util.js';
import type { DashboardState, Snapshot } from './state.js';

const FILES: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** The page's static files. */
export function staticRoutes(): Handler {
  return async (req, res, url) => {
    const file = req.method === 'GET' ? FILES[url.pathname] : undefined;
    if (!file) return false;
    const body = await readFile(new URL(`./public/${file}`, import.meta.url));
    res.writeHead(200, { 'content-type': TYPES[file.split('.').pop()!]!, 'cache-control': 'no-store' });
    res.end(body);
    return true;
  };
}

/** `GET /metrics`: the Prometheus exposition of `metrics`. */
export function metricsRoute(metrics: CtlplaneMetrics): Handler {
  return async (req, res, url) => {
    if (req.method !== 'GET' || url.pathname !== '/metrics') return false;
    const text = await metrics.metrics();
    res.writeHead(200, { 'content-type': metrics.contentType });
    res.end(text);
    return true;
  };
}

/** Samples the state every `intervalMs` and streams each snapshot to every open page. */
export class SnapshotStream {
  readonly #clients = new Set<ServerResponse>();
  readonly #state: DashboardState;
  readonly #timer: NodeJS.Timeout;
  #last: Snapshot | null = null;
  #sampling = false;

  constructor(state: DashboardState, intervalMs = 1_000) {
    this.#state = state;
    this.#timer = setInterval(() => void this.tick(), intervalMs);
    this.#timer.unref();
  }

  /** `GET /events` (the stream) and `GET /snapshot.json` (the latest snapshot). */
  routes(): Handler {
    return async (req, res, url) => {
      if (req.method !== 'GET') return false;
      if (url.pathname === '/snapshot.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(this.#last ?? (await this.#state.sample())));
        return true;
      }
      if (url.pathname !== '/events') return false;
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      this.#clients.add(res);
      res.on('close', () => this.#clients.delete(res));
      if (this.#last) res.write(`data: ${JSON.stringify(this.#last)}\n\n`);
      return true;
    };
  }

  async tick(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      this.#last = await this.#state.sample();
      const frame = `data: ${JSON.stringify(this.#last)}\n\n`;
      for (const c of this.#clients) c.write(frame);
    } catch {
      // Shutting down: the fleet is closed.
    } finally {
      this.#sampling = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    for (const c of this.#clients) c.end();
    this.#clients.clear();
  }
}
