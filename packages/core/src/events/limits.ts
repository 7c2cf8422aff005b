/**
 * The size limits of an event, in one place. Every change of an event becomes one bus message
 * (the relay publishes the event's JSON) and one frame to an agent, so what the store accepts
 * must fit what the bus and the router carry: checked at write time, where the caller can be told,
 * instead of at publish time, where nobody can.
 *
 * A message body is the event's JSON: payload + result + error + everything else (the envelope).
 * With the defaults the worst case is 512 KiB + 256 KiB + 64 KiB + 16 KiB = 848 KiB, inside the
 * buses' default 1 MiB `maxMessageBytes` and the router's 1 MiB frames.
 *
 * A routing key is `evt.<region>.<server>.<type>` with each word escaped; the word limits add up
 * to 4 + 64 + 1 + 64 + 1 + 120 = 254 bytes, inside AMQP's 255.
 *
 * @module
 */
import { escapeRoutingWord } from '../bus/routing.js';

/** Largest message body the buses carry by default (`maxMessageBytes`): 1 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1_048_576;

/** Default largest payload of an event, as UTF-8 JSON bytes (`maxPayloadBytes`): 512 KiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 524_288;

/** Largest `result` of a transition, as UTF-8 JSON bytes: 256 KiB. */
export const MAX_RESULT_BYTES = 262_144;

/** Largest `error` of a transition, as UTF-8 JSON bytes (it also fits a MySQL TEXT column). */
export const MAX_ERROR_BYTES = 65_535;

/**
 * Bound of everything in an event's JSON except payload, result and error: ids, names, dates,
 * status, trace context (1.9 KiB with the longest names and trace context; `test/unit/event-limits.test.ts` checks the bound).
 */
export const MAX_ENVELOPE_BYTES = 16_384;

/** Longest region, as an escaped routing-key word in UTF-8 bytes. */
export const MAX_REGION_KEY_BYTES = 64;

/** Longest server id, as an escaped routing-key word in UTF-8 bytes. */
export const MAX_SERVER_KEY_BYTES = 64;

/** Longest event type, as an escaped routing-key word in UTF-8 bytes. */
export const MAX_TYPE_KEY_BYTES = 120;

/**
 * The largest message body an event can need when payloads may be `maxPayloadBytes`: give a bus
 * at least this `maxMessageBytes`, or changes larger than the bus's limit are parked by the relay.
 */
export function maxEventMessageBytes(maxPayloadBytes: number): number {
  return maxPayloadBytes + MAX_RESULT_BYTES + MAX_ERROR_BYTES + MAX_ENVELOPE_BYTES;
}

/** Bytes `name` takes as one routing-key word: UTF-8, with `.`, `*`, `#`, `%` escaped to three. */
export function routingWordBytes(name: string): number {
  // Never throws (zod runs refinements after a failed `min`): an empty name is 0 bytes.
  return name.length === 0 ? 0 : Buffer.byteLength(escapeRoutingWord(name), 'utf8');
}

/** UTF-8 bytes of `text` as a JSON string (quotes and escapes included). */
export function jsonStringBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8');
}

/**
 * `text` cut so that it fits {@link MAX_ERROR_BYTES} as a JSON string (an agent's error message,
 * a stack trace): for callers that would rather store the start of a long error than none.
 */
export function fitError(text: string): string {
  if (jsonStringBytes(text) <= MAX_ERROR_BYTES) return text;
  // Each UTF-16 unit is at most 6 JSON bytes; halve the overshoot until it fits.
  let lo = Math.floor((MAX_ERROR_BYTES - 2) / 6);
  let hi = Math.min(text.length, MAX_ERROR_BYTES);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (jsonStringBytes(text.slice(0, mid)) <= MAX_ERROR_BYTES) lo = mid;
    else hi = mid - 1;
  }
  // Never end on half a surrogate pair.
  const cut = text.slice(0, lo);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}
