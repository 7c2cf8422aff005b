/**
 * A conservative, allocation-free check that an outgoing message is valid, so the hot publish
 * path skips zod (which copies every object it parses). It only ever answers "certainly valid";
 * anything else goes through the zod schema, which owns the rules and the error messages.
 *
 * @module
 */
import type { OutgoingMessage } from './message-bus.js';

// Control characters, which no routing key or id may hold.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// 85 UTF-16 units encode to at most 255 UTF-8 bytes.
const SAFE_SHORT = 85;
const MESSAGE_KEYS = new Set(['routingKey', 'body', 'headers', 'id']);

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** True when `v` is certainly a JSON value (finite numbers, plain objects, no cycles past depth 64). */
function isJson(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object': {
      if (v === null) return true;
      if (depth > 64) return false;
      if (Array.isArray(v)) {
        for (const item of v) if (!isJson(item, depth + 1)) return false;
        return true;
      }
      if (!isPlainObject(v)) return false;
      for (const key in v) if (!isJson(v[key], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

function isShortString(v: unknown, allowEmpty: boolean): v is string {
  return typeof v === 'string' && v.length <= SAFE_SHORT && (allowEmpty || v.length > 0) && !CONTROL.test(v);
}

/** At most 64 headers of at most 64 + 100 characters: always under the 16 KiB table limit. */
function headersOk(h: unknown): boolean {
  if (h === undefined) return true;
  if (!isPlainObject(h)) return false;
  let n = 0;
  for (const name in h) {
    if (++n > 64 || name.length === 0 || name.length > 64 || /^x-/i.test(name)) return false;
    const v = h[name];
    const ok =
      typeof v === 'boolean' ||
      (typeof v === 'number' && Number.isFinite(v)) ||
      (typeof v === 'string' && v.length <= 100);
    if (!ok) return false;
  }
  return true;
}

/** @internal True only when `m` certainly passes `outgoingMessageSchema`. */
export function isCertainlyValid(m: unknown): m is OutgoingMessage {
  if (!isPlainObject(m)) return false;
  for (const key in m) if (!MESSAGE_KEYS.has(key)) return false;
  return (
    isShortString(m.routingKey, true) &&
    (m.id === undefined || isShortString(m.id, false)) &&
    headersOk(m.headers) &&
    isJson(m.body, 0)
  );
}
