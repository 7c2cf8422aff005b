/**
 * Parsing at the edges with zod: one place turns zod issues into `ValidationError`s that name the
 * field and the rule.
 *
 * @module
 */
import type { z } from 'zod';
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
