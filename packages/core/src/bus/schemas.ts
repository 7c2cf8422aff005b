/**
 * zod schemas of what callers hand a MessageBus, and the one function that turns an outgoing
 * message into the bytes every backend sends. Parsed once, at the edge.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { UnpublishableError, ValidationError } from '../errors.js';
import type { JsonValue } from '../events/model.js';
import { TRACEPARENT_HEADER, traceHeaders } from '../tracing/propagation.js';
import { activeTraceContext } from '../tracing/tracing.js';
import { parseOrThrow } from '../validation.js';
import type { HeaderValue, OutgoingMessage } from './message-bus.js';
import { isCertainlyValid } from './quick-validate.js';
import { MAX_ROUTING_KEY_BYTES } from './routing.js';

const fitsShortString = (s: string): boolean => Buffer.byteLength(s, 'utf8') <= MAX_ROUTING_KEY_BYTES;

/** @internal Exchange and queue names. */
export const busNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters')
  .refine((s) => !s.startsWith('amq.'), 'must not start with amq. (reserved by AMQP)');

/** @internal Topic patterns and routing keys: at most 255 bytes, no control characters. */
export const patternSchema = z
  .string()
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
  .refine(fitsShortString, `must be at most ${MAX_ROUTING_KEY_BYTES} bytes`);

/** Largest header table, as JSON bytes (AMQP encodes tables in at most 64 KiB). */
const MAX_HEADER_BYTES = 16 * 1024;

/** Why a header name is refused, or null when it is fine. */
function headerNameProblem(name: string): string | null {
  if (name.length === 0) return 'must not be empty';
  if (name.length > 128) return 'must be at most 128 characters';
  if (name.toLowerCase().startsWith('x-')) return 'must not start with x- (reserved for the broker)';
  return null;
}

const headerValueSchema = z.union([
  z.string().max(4_096, 'must be at most 4,096 characters'),
  z.number().refine(Number.isFinite, 'must be a finite number'),
  z.boolean(),
]);

/** @internal */
export const outgoingMessageSchema = z
  .object({
    routingKey: patternSchema,
    body: z.json(),
    headers: z.record(z.string(), headerValueSchema).optional(),
    id: z
      .string()
      .min(1, 'must not be empty')
      .refine(fitsShortString, `must be at most ${MAX_ROUTING_KEY_BYTES} bytes`)
      .optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    for (const name of Object.keys(m.headers ?? {})) {
      const problem = headerNameProblem(name);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['headers', name] });
    }
  })
  .refine((m) => Object.keys(m.headers ?? {}).length <= 64, {
    message: 'must have at most 64 headers',
    path: ['headers'],
  })
  .refine((m) => Buffer.byteLength(JSON.stringify(m.headers ?? {}), 'utf8') <= MAX_HEADER_BYTES, {
    message: `must encode to at most ${MAX_HEADER_BYTES} bytes`,
    path: ['headers'],
  });

/** The options of `MessageBus.subscribe`, with their defaults: parse them once, at the call. */
export const subscribeOptionsSchema = z
  .object({
    queue: busNameSchema,
    bindings: z.array(patternSchema).max(1_000).readonly().default([]),
    prefetch: z.number().int().min(1).max(10_000).optional(),
    deliveryLimit: z.number().int().min(1).max(1_000).optional(),
    autoAck: z.boolean().default(true),
    deadLetters: z.boolean().default(false),
    expiresMs: z
      .number()
      .int()
      .min(1_000)
      .max(2 ** 31 - 1)
      .optional(),
  })
  .strict();

/** An outgoing message validated, with its id, timestamp and encoded body: what a bus sends. */
export interface PreparedMessage {
  /** Message id. */
  readonly id: string;
  /** Routing key. */
  readonly routingKey: string;
  /** Application headers. */
  readonly headers: Readonly<Record<string, HeaderValue>>;
  /** Publish time, ms since the epoch. */
  readonly timestamp: number;
  /**
   * The body as UTF-8 JSON (a `Buffer` at run time; typed as its base class so that the
   * declarations of `@ctlplane/core` need no `@types/node`).
   */
  readonly content: Uint8Array;
}

/**
 * Validate one outgoing message and encode its body once.
 *
 * @param maxBytes - the largest body the backend takes
 * @param index - its position in a batch, for the error's path
 * @throws UnpublishableError (a ValidationError) naming `[index].field`, or when the body is over
 *   `maxBytes`: the message can never be published as it is
 */
export function prepareMessage(message: OutgoingMessage, maxBytes: number, index?: number): PreparedMessage {
  const what = index === undefined ? 'message' : `message [${index}]`;
  const m = isCertainlyValid(message) ? message : parseMessage(message, what);
  const content = Buffer.from(JSON.stringify(m.body as JsonValue), 'utf8');
  if (content.length > maxBytes) {
    const path = index === undefined ? 'body' : `[${index}].body`;
    const rule = `is ${content.length} bytes, more than the ${maxBytes}-byte limit`;
    throw new UnpublishableError(`${what}: ${path} ${rule}`, [{ path, message: rule }]);
  }
  return {
    id: m.id ?? randomUUID(),
    routingKey: m.routingKey,
    headers: Object.freeze(withTraceHeaders(m.headers)),
    timestamp: Date.now(),
    content,
  };
}

/**
 * The headers with the active span's W3C trace context added, unless they carry a `traceparent`
 * already (the outbox relay sets each event's own): a consumer's spans join the publisher's trace.
 */
function withTraceHeaders(
  headers: Readonly<Record<string, HeaderValue>> | undefined,
): Record<string, HeaderValue> {
  if (headers?.[TRACEPARENT_HEADER] !== undefined) return { ...headers };
  return { ...headers, ...traceHeaders(activeTraceContext()) };
}

/** The message parsed, or an {@link UnpublishableError} naming the field and rule. */
function parseMessage(message: OutgoingMessage, what: string): OutgoingMessage {
  try {
    return parseOrThrow(outgoingMessageSchema, message, what) as OutgoingMessage;
  } catch (err) {
    throw err instanceof ValidationError ? UnpublishableError.from(err) : err;
  }
}

/** Validate a batch of outgoing messages; the whole batch fails on the first bad one. */
export function prepareMessages(messages: readonly OutgoingMessage[], maxBytes: number): PreparedMessage[] {
  if (!Array.isArray(messages)) {
    throw new ValidationError('messages: must be an array', [{ path: '', message: 'must be an array' }]);
  }
  return messages.map((m, i) => prepareMessage(m, maxBytes, i));
}
