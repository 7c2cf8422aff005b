/**
 * Messages to and from AMQP: properties on the way out, a validated {@link BusMessage} on the way
 * in. Anything arriving from the broker is parsed before a handler sees it.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { BusMessage, HeaderValue, JsonValue } from '@ctlplane/core';
import type { PreparedMessage } from '@ctlplane/core/driver';
import type { ConsumeMessage, Options } from 'amqplib';
import { z } from 'zod';

/** @internal The bytes of a prepared message as the Buffer amqplib takes (a view, not a copy). */
export function contentBuffer(m: PreparedMessage): Buffer {
  const c = m.content;
  return Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

/**
 * @internal The header carrying the publish time in milliseconds. The AMQP `timestamp` property
 * holds POSIX seconds (AMQP 0-9-1; what pika, Java and Go clients decode), too coarse for latency.
 */
export const TIMESTAMP_MS_HEADER = 'ctlplane-timestamp-ms';

/**
 * A `timestamp` property above this is milliseconds, not seconds: 10^11 s is in the year 5138,
 * 10^11 ms in 1973. Read so, messages published before the property was written in seconds (by an
 * older ctlplane still in a queue, or another producer) keep a sensible time.
 */
const SECONDS_BELOW = 1e11;

/**
 * @internal Publish properties of a prepared message: persistent JSON with its id, the `timestamp`
 * property in seconds and the milliseconds in {@link TIMESTAMP_MS_HEADER}.
 */
export function publishProperties(m: PreparedMessage): Options.Publish {
  return {
    messageId: m.id,
    timestamp: Math.floor(m.timestamp / 1_000),
    headers: { ...m.headers, [TIMESTAMP_MS_HEADER]: m.timestamp },
    contentType: 'application/json',
    persistent: true,
  };
}

/** The publish time of a delivery in ms: the header, else the property (seconds, or old ms). */
function timestampMs(header: unknown, property: unknown): number {
  if (typeof header === 'number' && Number.isFinite(header)) return header;
  if (typeof property === 'number' && Number.isFinite(property)) {
    return property < SECONDS_BELOW ? property * 1_000 : property;
  }
  return Date.now();
}

const bodySchema = z.json();

/** @internal Why an incoming message cannot be handed to a handler. */
export class MalformedMessageError extends Error {}

/**
 * @internal Decode a delivery. `countsDeliveries`: the queue stamps `x-delivery-count` (quorum);
 * otherwise the count is 1, or 2 when the broker flags a redelivery.
 * @throws MalformedMessageError when the body is not JSON
 */
export function decodeMessage(msg: ConsumeMessage, countsDeliveries: boolean): BusMessage {
  let body: JsonValue;
  try {
    body = bodySchema.parse(JSON.parse(msg.content.toString('utf8'))) as JsonValue;
  } catch (err) {
    throw new MalformedMessageError(`body is not JSON: ${(err as Error).message}`);
  }
  const raw = (msg.properties.headers ?? {}) as Record<string, unknown>;
  const headers: Record<string, HeaderValue> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k.toLowerCase().startsWith('x-') || k === TIMESTAMP_MS_HEADER) continue;
    if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) {
      headers[k] = v;
    } else if (typeof v === 'bigint') {
      headers[k] = Number(v);
    }
  }
  const prior = Number(raw['x-delivery-count'] ?? 0);
  const redelivered = msg.fields.redelivered || prior > 0;
  const deliveryCount = countsDeliveries ? (Number.isFinite(prior) ? prior : 0) + 1 : redelivered ? 2 : 1;
  // A dead letter travels with the queue name as its key; the original is in x-death.
  const death = (raw['x-death'] as { 'routing-keys'?: unknown }[] | undefined)?.[0]?.['routing-keys'];
  const routingKey = Array.isArray(death) && typeof death[0] === 'string' ? death[0] : msg.fields.routingKey;
  const messageId: unknown = msg.properties.messageId;
  const timestamp = timestampMs(raw[TIMESTAMP_MS_HEADER], msg.properties.timestamp);
  return Object.freeze({
    id:
      typeof messageId === 'string' && messageId !== ''
        ? messageId
        : `sha1:${createHash('sha1').update(routingKey).update(msg.content).digest('hex')}`,
    routingKey,
    body,
    headers: Object.freeze(headers),
    timestamp,
    redelivered,
    deliveryCount,
  });
}
