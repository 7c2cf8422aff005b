/**
 * The event type registry: each user-defined type with the zod schema of its payload.
 *
 * @module
 */
import type { z } from 'zod';
import { ValidationError } from '../errors.js';
import { issuesFromZod, parseOrThrow, typeNameSchema } from '../validation.js';
import { strictPayload } from './strict-payload.js';

/** Event type names mapped to their payload schemas. */
export type EventTypeMap = Record<string, z.ZodType>;

/** The payload type (after parsing) of type `K` of map `M`. */
export type PayloadOf<M extends EventTypeMap, K extends keyof M> = z.output<M[K]>;

/** Options of {@link defineEventTypes}. */
export interface EventTypesOptions {
  /**
   * Refuse unknown payload fields (default true): every `z.object` in a payload schema, at any
   * depth, rejects keys it does not list, so an append with a misspelt or stray field fails with a
   * `ValidationError` naming it (`[0].payload.vcpu: unknown field`) instead of losing it silently.
   * Objects written with `z.looseObject` keep (and store) unknown keys; `false` leaves every
   * schema as written (zod's default drops unknown keys). Readers are lenient either way: an
   * Agent parses with the schemas as written, so a writer can add a field before its agents know it.
   */
  strict?: boolean;
}

/** How {@link EventTypeRegistry.parse} treats unknown payload fields. */
export interface ParseOptions {
  /**
   * `true` (default): as the registry was defined (strict unless `strict: false`). `false`: the
   * schema as written, for readers of events that a newer writer may have extended.
   */
  strict?: boolean;
}

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
  readonly #strict: Readonly<Record<string, z.ZodType>>;

  /**
   * @param schemas - event type name → payload schema
   * @param options - whether unknown payload fields are refused (default: yes)
   * @throws ValidationError for a name an event could not carry (empty, control characters, over
   *   120 bytes as a routing-key word)
   */
  constructor(schemas: M, options: EventTypesOptions = {}) {
    for (const name of Object.keys(schemas))
      parseOrThrow(typeNameSchema, name, `event type "${name.slice(0, 100)}"`);
    this.#schemas = Object.freeze({ ...schemas });
    const strict = options.strict ?? true;
    this.#strict = Object.freeze(
      Object.fromEntries(Object.entries(schemas).map(([k, v]) => [k, strict ? strictPayload(v) : v])),
    );
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
   * @param at - prefix of the issues' paths, e.g. `[3].`
   * @param options - `strict: false` to parse with the schema as written (what readers do)
   * @throws ValidationError naming `type` when unknown, or `payload.<field>` and the rule.
   */
  parse<K extends Extract<keyof M, string>>(
    type: K | string,
    payload: unknown,
    at = '',
    options: ParseOptions = {},
  ): PayloadOf<M, K> {
    if (!this.has(type)) {
      throw new ValidationError(`${at}type: unknown event type "${String(type).slice(0, 100)}"`, [
        {
          path: `${at}type`,
          message: `unknown event type; registered: ${this.names.join(', ') || '(none)'}`,
        },
      ]);
    }
    const schema = options.strict === false ? (this.#schemas[type] as z.ZodType) : this.#strict[type]!;
    const result = schema.safeParse(payload);
    if (!result.success) {
      const issues = issuesFromZod(result.error, `${at}payload`);
      throw new ValidationError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues, {
        cause: result.error,
      });
    }
    return result.data as PayloadOf<M, K>;
  }
}

/**
 * Build a registry from a map of type names to payload schemas. Unknown payload fields are refused
 * on append unless `options.strict` is false (see {@link EventTypesOptions}).
 */
export function defineEventTypes<M extends EventTypeMap>(
  schemas: M,
  options?: EventTypesOptions,
): EventTypeRegistry<M> {
  return new EventTypeRegistry(schemas, options);
}
