/**
 * Bounds on JSON text checked before it is parsed: nesting depth, and items per array or object,
 * in one iterative pass over the raw bytes. Nothing recurses (no input can overflow the stack) and
 * nothing is allocated per value, so a peer's bytes are refused before `JSON.parse` and zod, both
 * of which cost time and memory per value (`JSON.parse` of an 8 MB list of 4M zeros: 350–560 ms
 * on a loaded machine; this scan stops at the first item over the bound), and zod's recursive
 * schemas (`z.json()`) cost stack depth. Syntax is not checked here: `JSON.parse` does that after.
 *
 * Shared by every component that parses a peer's JSON (Harpoon's HTTP bodies; the router's
 * frames can use it the same way).
 *
 * @internal
 * @module
 */
import { ValidationError } from './errors.js';

/** @internal Limits of {@link jsonTextIssue}. */
export interface JsonTextBounds {
  /** Deepest nesting of arrays and objects, the outermost counting 1. */
  readonly maxDepth: number;
  /** Most items in one array or object (default: no limit). */
  readonly maxItems?: number;
  /** Count items only in containers at most this deep (default: all); deeper ones are free. */
  readonly maxItemsDepth?: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** Index of the quote closing the string opened at `open`, or the length when it never closes. */
function stringEnd(bytes: Uint8Array, open: number): number {
  let at = open;
  for (;;) {
    at = bytes.indexOf(QUOTE, at + 1);
    if (at < 0) return bytes.length;
    let slashes = 0;
    while (bytes[at - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return at;
  }
}

/**
 * @internal The rule the JSON text breaks, in words (e.g. `must not nest deeper than 64
 * levels`), or null. Linear time; memory of one counter per level of `maxDepth`. Works on the
 * UTF-8 bytes (a string is encoded first): no byte of a multi-byte character is a JSON delimiter.
 */
export function jsonTextIssue(text: Uint8Array | string, bounds: JsonTextBounds): string | null {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const { maxDepth } = bounds;
  const maxItems = bounds.maxItems ?? Number.POSITIVE_INFINITY;
  const countTo = bounds.maxItemsDepth ?? maxDepth;
  // commas[d] counts the separators of the open container at depth d.
  const commas = new Float64Array(maxDepth + 1);
  let depth = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === QUOTE) i = stringEnd(bytes, i);
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (depth === maxDepth) return `must not nest deeper than ${maxDepth} levels`;
      commas[++depth] = 0;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (depth > 0) depth--;
    } else if (c === COMMA && depth > 0 && depth <= countTo) {
      // n separators mean n + 1 items.
      if (++commas[depth]! >= maxItems)
        return `must not hold more than ${maxItems} items in one array or object`;
    }
  }
  return null;
}

/**
 * @internal Parse a peer's JSON after checking its bounds; every failure is a `ValidationError`
 * naming `what` (e.g. `body`), never a `SyntaxError` or a stack overflow.
 */
export function parseBoundedJson(text: Uint8Array | string, bounds: JsonTextBounds, what: string): unknown {
  const issue = jsonTextIssue(text, bounds);
  if (issue) throw new ValidationError(`${what}: ${issue}`, [{ path: what, message: issue }]);
  try {
    return JSON.parse(
      typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString(),
    );
  } catch {
    throw new ValidationError(`${what}: not valid JSON`, [{ path: what, message: 'not valid JSON' }]);
  }
}
