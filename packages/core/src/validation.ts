/**
 * Parsing at the edges with zod: the basic schemas every component shares (names, ids, feed
 * positions), and the one place that turns zod issues into `ValidationError`s that name the field
 * and the rule.
 *
 * @module
 */
import { z } from 'zod';
import { ValidationError, type ValidationIssue } from './errors.js';
import {
  MAX_REGION_KEY_BYTES,
  MAX_SERVER_KEY_BYTES,
  MAX_TYPE_KEY_BYTES,
  routingWordBytes,
} from './events/limits.js';

/** A zod issue as this module reads it: an `invalid_union` carries each branch's issues. */
interface ZodIssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code?: string;
  readonly errors?: readonly (readonly ZodIssueLike[])[];
  /** An `unrecognized_keys` issue's keys. */
  readonly keys?: readonly string[];
}

/** Unknown keys named one by one in the issues of one object; the rest are counted. */
const MAX_UNKNOWN_KEYS = 10;

/** An object's unknown keys (one zod issue) as one issue per key, whose path names the key. */
function unknownKeyIssues(issue: ZodIssueLike): ZodIssueLike[] {
  const keys = issue.keys ?? [];
  const named = keys
    .slice(0, MAX_UNKNOWN_KEYS)
    .map((key) => ({ path: [...issue.path, key.slice(0, 100)], message: 'unknown field' }));
  const more = keys.length - named.length;
  return more > 0 ? [...named, { path: issue.path, message: `${more} more unknown fields` }] : named;
}

/**
 * The issues of a union's branches, resolved to the branch the input came closest to matching:
 * the one whose issues reach deepest into the input, then the one with fewest issues. zod itself
 * reports only "Invalid input" at the union, which names neither the field nor the rule.
 */
function unionIssues(issue: ZodIssueLike): ZodIssueLike[] {
  const branches = (issue.errors ?? []).filter((b) => b.length > 0);
  if (branches.length === 0) return [issue];
  const score = (b: readonly ZodIssueLike[]) => Math.max(...b.map((i) => i.path.length)) * 1_000 - b.length;
  const ranked = [...branches].sort((a, b) => score(b) - score(a));
  const [best, second] = ranked;
  const at = (i: ZodIssueLike): ZodIssueLike => ({ ...i, path: [...issue.path, ...i.path] });
  if (second === undefined || score(best!) > score(second)) return best!.flatMap((i) => expand(at(i)));
  // No branch came closer than another: say what each would need.
  const each = [
    ...new Set(
      ranked.map((b) =>
        b.map((i) => `${i.path.map(String).join('.') || '(value)'}: ${i.message}`).join(', '),
      ),
    ),
  ];
  if (each.length === 1 && best!.every((i) => i.path.length === 0)) return best!.map(at);
  return [{ path: issue.path, message: `must match one of ${each.length} shapes: ${each.join(' | ')}` }];
}

function expand(issue: ZodIssueLike): ZodIssueLike[] {
  if (issue.code === 'invalid_union') return unionIssues(issue);
  if (issue.code === 'unrecognized_keys' && issue.keys?.length) return unknownKeyIssues(issue);
  return [issue];
}

/**
 * @internal Turn zod issues into dotted-path issues, under an optional prefix: a union's resolved
 * to its closest branch, an object's unknown keys one issue per key.
 */
export function issuesFromZod(error: z.ZodError, prefix = ''): ValidationIssue[] {
  return (error.issues as readonly ZodIssueLike[]).flatMap(expand).map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    return { path, message: issue.message };
  });
}

/** @internal Issues as one line: `path: rule; path: rule` (the value itself is `(root)`). */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
}

/**
 * Parse `input` with `schema`, or throw a `ValidationError` naming every failed field and rule.
 *
 * @param what - names the input in the message, e.g. `MemoryEventStore options`
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = issuesFromZod(result.error);
  throw new ValidationError(`invalid ${what}: ${describeIssues(issues)}`, issues, { cause: result.error });
}

/** Names: types, regions, server ids, owners. Printable, bounded, no control characters. */
export const nameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(191, 'must be at most 191 characters')
  // `*`, not `+`: an empty name is min(1)'s issue alone, not a second, misleading one.
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
  .refine((s) => !/\p{Cs}/u.test(s), 'must be well-formed Unicode (no lone surrogates)');

/**
 * A name that becomes one word of an event's routing key: bounded in escaped bytes, so that every
 * event's key fits AMQP's 255 bytes (see `events/limits.ts`).
 */
const routingWordSchema = (what: string, maxBytes: number) =>
  nameSchema.refine(
    (s) => routingWordBytes(s) <= maxBytes,
    `must be at most ${maxBytes} bytes as a routing-key word (UTF-8; . * # % count 3 each): every ${what} is part of its events' routing keys`,
  );

/** A region an event or a server belongs to. */
export const regionSchema = routingWordSchema('region', MAX_REGION_KEY_BYTES);

/** A server id an event is placed on, or a server of the fleet. */
export const serverIdSchema = routingWordSchema('server id', MAX_SERVER_KEY_BYTES);

/** An event type name. */
export const typeNameSchema = routingWordSchema('event type', MAX_TYPE_KEY_BYTES);

/** An event id: a positive safe integer. */
export const idSchema = z
  .number()
  .int('must be an integer')
  .positive('must be positive')
  .max(Number.MAX_SAFE_INTEGER);

/** A feed position: a non-negative safe integer (0 is the start). */
export const cursorSchema = z
  .number()
  .int('must be an integer')
  .nonnegative('must not be negative')
  .max(Number.MAX_SAFE_INTEGER);

/** @internal The longest lease a claim or renewal may ask for: one day. */
export const MAX_LEASE_MS = 86_400_000;
