/**
 * The event type registry: each user-defined type with the zod schema of its payload.
 *
 * @module
 */
import type { z } from 'zod';
import { ValidationError } from '../errors.js';
import { issuesFromZod } from '../validation.js';

/** Event type names mapped to their payload schemas. */
export type EventTypeMap = Record<string, z.ZodType>;

/** The payload type (after parsing) of type `K` of map `M`. */
export type PayloadOf<M extends EventTypeMap, K extends keyof M> = z.output<M[K]>;

/**
 * The registered event types. Payloads are validated on append and typed on read.
 *
 * @example
 * ```ts
 * const types = defineEventTypes({
 *   'droplet.create': z.object({ vcpus: z.number().int().positive(), memoryMb: z.number().int(), image: z.string() }),
 * });
 * ```
 */
export class EventTypeRegistry<M extends EventTypeMap = EventTypeMap> {
  readonly #schemas: M;

  /** @param schemas - event type name → payload schema */
  constructor(schemas: M) {
    this.#schemas = Object.freeze({ ...schemas });
  }

  /** The registered type names. */
  get names(): readonly string[] {
    return Object.keys(this.#schemas);
  }

  /** True when `type` is registered. */
  has(type: string): type is Extract<keyof M, string> {
    return Object.hasOwn(this.#schemas, type);
  }

  /**
   * Validate a payload against its type's schema and return the parsed payload.
   *
   * @throws ValidationError naming `type` when unknown, or `payload.<field>` and the rule.
   */
  parse<K extends Extract<keyof M, string>>(type: K | string, payload: unknown, at = ''): PayloadOf<M, K> {
    if (!this.has(type)) {
      throw new ValidationError(`${at}type: unknown event type "${String(type).slice(0, 100)}"`, [
        {
          path: `${at}type`,
          message: `unknown event type; registered: ${this.names.join(', ') || '(none)'}`,
        },
      ]);
    }
    const result = (this.#schemas[type] as z.ZodType).safeParse(payload);
    if (!result.success) {
      const issues = issuesFromZod(result.error, `${at}payload`);
      throw new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues, {
        cause: result.error,
      });
    }
    return result.data as PayloadOf<M, K>;
  }
}

/** Build a registry from a map of type names to payload schemas. */
export function defineEventTypes<M extends EventTypeMap>(schemas: M): EventTypeRegistry<M> {
  return new EventTypeRegistry(schemas);
}
