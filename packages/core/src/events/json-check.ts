/**
 * Checks that a value is plain JSON data of bounded depth, without recursion (a 100,000-deep
 * value must get a ValidationError, not a stack overflow).
 *
 * @module
 */
import type { ValidationIssue } from '../errors.js';

/** Deepest nesting accepted in payloads and results. */
export const MAX_JSON_DEPTH = 64;

/**
 * The first rule `value` breaks as JSON data — a non-finite number, a BigInt, a function, a
 * symbol, `undefined` inside an array, a cycle, a class instance, nesting deeper than `maxDepth` —
 * or null when it is plain JSON.
 */
export function jsonIssue(value: unknown, path: string, maxDepth = MAX_JSON_DEPTH): ValidationIssue | null {
  const stack: [unknown, string, number][] = [[value, path, 0]];
  while (stack.length > 0) {
    const [v, at, depth] = stack.pop()!;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { path: at, message: 'must be a finite number' };
      continue;
    }
    if (typeof v !== 'object') return { path: at, message: `must be JSON data, not ${typeof v}` };
    if (depth >= maxDepth) return { path: at, message: `must not nest deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        if (v[i] === undefined) return { path: `${at}.${i}`, message: 'must be JSON data, not undefined' };
        stack.push([v[i], `${at}.${i}`, depth + 1]);
      }
      continue;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return { path: at, message: 'must be a plain object' };
    for (const [k, child] of Object.entries(v)) {
      if (child !== undefined) stack.push([child, `${at}.${k}`, depth + 1]);
    }
  }
  return null;
}
