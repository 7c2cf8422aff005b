/**
 * Parsing at the edges with zod: the basic schemas every component shares (names, ids, feed
 * positions), and the one place that turns zod issues into `ValidationError`s that name the field
 * and the rule.
 *
 * @module
 */
import { z } from 'zod';
import { ValidationError, type ValidationIssue } from './errors.js';

/** @internal Turn zod issues into dotted-path issues, under an optional prefix. */
export function issuesFromZod(error: z.ZodError, prefix = ''): ValidationIssue[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    return { path, message: issue.message };
  });
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
  const detail = issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ');
  throw new ValidationError(`invalid ${what}: ${detail}`, issues, { cause: result.error });
}

/** Names: types, regions, server ids, owners. Printable, bounded, no control characters. */
export const nameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(191, 'must be at most 191 characters')
  .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters')
  .refine((s) => !/\p{Cs}/u.test(s), 'must be well-formed Unicode (no lone surrogates)');

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
