/**
 * The droplet API over HTTP, for clients in other processes (the multi-process script's workload).
 */
import { BusyError, ConflictError, NotFoundError, UnavailableError, ValidationError } from '@ctlplane/core';
import type { CreateDroplet, DropletApi, DropletView } from './api.js';

/** Calls a droplet API at `baseUrl` (e.g. `http://127.0.0.1:7301`). */
export class DropletClient implements DropletApi {
  readonly #base: string;

  constructor(baseUrl: string) {
    this.#base = baseUrl.replace(/\/$/, '');
  }

  async create(request: CreateDroplet): Promise<DropletView> {
    return (await this.#call<{ droplet: DropletView }>('POST', '/api/droplets', request)).droplet;
  }

  async destroy(dropletId: number): Promise<DropletView> {
    return (await this.#call<{ droplet: DropletView }>('DELETE', `/api/droplets/${dropletId}`)).droplet;
  }

  async getMany(ids: readonly number[]): Promise<DropletView[]> {
    if (ids.length === 0) return [];
    return (await this.#call<{ droplets: DropletView[] }>('GET', `/api/droplets?ids=${ids.join(',')}`))
      .droplets;
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.#base}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new UnavailableError(`droplet API unreachable at ${this.#base}: ${(err as Error).message}`, {
        cause: err,
        transient: true,
      });
    }
    const json = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (res.ok) return json as T;
    const message = json.error?.message ?? `HTTP ${res.status}`;
    switch (json.error?.code) {
      case 'VALIDATION':
        throw new ValidationError(message);
      case 'NOT_FOUND':
        throw new NotFoundError(message);
      case 'CONFLICT':
        throw new ConflictError(message);
      case 'BUSY':
        throw new BusyError(message, 1_000);
      default:
        throw new UnavailableError(message);
    }
  }
}
