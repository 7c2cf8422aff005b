/**
 * The public API of the droplet cloud: create, destroy and look up droplets. It is a thin layer
 * over Harpoon (in process, or a `HarpoonClient` in another process): every request becomes an
 * event.
 */
import { ConflictError, type HarpoonApi, NotFoundError, ValidationError } from '@ctlplane/core';
import { parseOrThrow } from '@ctlplane/core/driver';
import { z } from 'zod';
import { type Handler, readJson, sendJson } from './http-util.js';
import { apiSpan } from './tracing/api-span.js';
import { type DropletEvent, type DropletTypes, SIZES } from './types.js';

/** A droplet request as the API reports it. */
export interface DropletView {
  readonly id: number;
  readonly type: string;
  readonly status: string;
  readonly region: string;
  readonly serverId: string | null;
  readonly error: string | null;
  readonly result: unknown;
}

/** What a client of the API can do (in process, or over HTTP with `DropletClient`). */
export interface DropletApi {
  create(request: CreateDroplet): Promise<DropletView>;
  destroy(dropletId: number): Promise<DropletView>;
  getMany(ids: readonly number[]): Promise<DropletView[]>;
}

const createSchema = z
  .object({
    region: z.string().min(1).max(64),
    size: z.enum(Object.keys(SIZES) as [keyof typeof SIZES]).default('s-1vcpu-1gb'),
    image: z.string().min(1).max(100).default('ubuntu-24-04-x64'),
    name: z.string().min(1).max(64).optional(),
    requestId: z.string().min(1).max(100).optional(),
  })
  .strict();

/** A create request. */
export type CreateDroplet = z.input<typeof createSchema>;

const view = (e: DropletEvent): DropletView => ({
  id: e.id,
  type: e.type,
  status: e.status,
  region: e.region,
  serverId: e.serverId,
  error: e.error,
  result: e.result,
});

/** The API's logic, over any Harpoon. */
export class DropletService implements DropletApi {
  readonly #harpoon: HarpoonApi<DropletTypes>;
  readonly #regions: ReadonlySet<string>;

  constructor(harpoon: HarpoonApi<DropletTypes>, regions: readonly string[]) {
    this.#harpoon = harpoon;
    this.#regions = new Set(regions);
  }

  async create(request: CreateDroplet): Promise<DropletView> {
    const r = parseOrThrow(createSchema, request, 'create request');
    return apiSpan('droplet-cloud.api.create', { 'droplet.region': r.region, 'droplet.size': r.size }, () =>
      this.#create(r),
    );
  }

  async #create(r: z.output<typeof createSchema>): Promise<DropletView> {
    if (!this.#regions.has(r.region)) {
      const message = `unknown region; one of ${[...this.#regions].join(', ')}`;
      throw new ValidationError(`region: ${message}`, [{ path: 'region', message }]);
    }
    const event = await this.#harpoon.create({
      type: 'droplet.create',
      payload: { name: r.name ?? `droplet-${Date.now().toString(36)}`, size: r.size, image: r.image },
      region: r.region,
      idempotencyKey: r.requestId ?? null,
    });
    return view(event);
  }

  /** Destroy a booted droplet; a droplet not placed yet is cancelled instead. */
  async destroy(dropletId: number): Promise<DropletView> {
    return apiSpan('droplet-cloud.api.destroy', { 'droplet.id': dropletId }, () => this.#destroy(dropletId));
  }

  async #destroy(dropletId: number): Promise<DropletView> {
    const create = await this.#harpoon.get(dropletId);
    if (create?.type !== 'droplet.create') throw new NotFoundError(`droplet ${dropletId} does not exist`);
    if (create.status === 'pending') {
      return view(
        await this.#harpoon.transition({
          id: create.id,
          from: 'pending',
          to: 'cancelled',
          error: 'destroyed before placement',
        }),
      );
    }
    if (create.status !== 'done') {
      throw new ConflictError(`droplet ${dropletId} is ${create.status}; destroy it once it is done`, {
        status: create.status,
      });
    }
    const event = await this.#harpoon.create({
      type: 'droplet.destroy',
      payload: { dropletId },
      region: create.region,
      serverId: create.serverId,
      idempotencyKey: `destroy:${dropletId}`,
    });
    return view(event);
  }

  async getMany(ids: readonly number[]): Promise<DropletView[]> {
    const found = await Promise.all(ids.map((id) => this.#harpoon.get(id)));
    return found.filter((e): e is DropletEvent => e !== null).map(view);
  }
}

const idsSchema = z
  .string()
  .regex(/^\d+(,\d+)*$/, 'must be comma-separated ids')
  .transform((s) => s.split(',').map(Number))
  .pipe(z.array(z.number().int().positive()).max(500));

/** HTTP routes of the API under `/api`. */
export function apiRoutes(api: DropletApi): Handler {
  return async (req, res, url) => {
    const path = url.pathname;
    if (!path.startsWith('/api/')) return false;
    if (req.method === 'GET' && path === '/api/health') sendJson(res, 200, { ok: true });
    else if (req.method === 'POST' && path === '/api/droplets') {
      sendJson(res, 201, { droplet: await api.create((await readJson(req)) as CreateDroplet) });
    } else if (req.method === 'GET' && path === '/api/droplets') {
      const ids = parseOrThrow(idsSchema, url.searchParams.get('ids') ?? '', 'ids');
      sendJson(res, 200, { droplets: await api.getMany(ids) });
    } else if (req.method === 'DELETE' && /^\/api\/droplets\/\d+$/.test(path)) {
      sendJson(res, 202, { droplet: await api.destroy(Number(path.split('/').pop())) });
    } else return false;
    return true;
  };
}
