/**
 * Routing keys for events and the topic patterns that select them by region, server and type.
 * A key is `evt.<region>.<server>.<type>`; `_` stands for "not placed on a server yet". Each name
 * is escaped to exactly one word, so a type such as `droplet.create` or a name holding `*` or `#`
 * never spills into another word or acts as a wildcard.
 *
 * @module
 */
import { ValidationError } from '../errors.js';

/** First word of every event routing key. */
export const EVENT_KEY_PREFIX = 'evt';

/** The server word of an event not placed on a server yet. */
export const UNPLACED_SERVER = '_';

/** Longest routing key AMQP carries, in UTF-8 bytes. */
export const MAX_ROUTING_KEY_BYTES = 255;

/** Pattern that matches every event routing key. */
export const ALL_EVENTS_PATTERN = `${EVENT_KEY_PREFIX}.*.*.*`;

/** What an event routing key is built from; a `StoredEvent` fits. */
export interface EventRoutingFields {
  /** The event type, e.g. `droplet.create`. */
  readonly type: string;
  /** The region, e.g. `nyc1`. */
  readonly region: string;
  /** The server, or null when not placed. */
  readonly serverId: string | null;
}

const ESCAPES: Readonly<Record<string, string>> = { '%': '%25', '.': '%2E', '*': '%2A', '#': '%23' };

/**
 * Escape one name into one routing-key word: `%`, `.`, `*` and `#` are percent-encoded, and a name
 * that is exactly `_` becomes `%5F` so it cannot be mistaken for "unplaced".
 *
 * @throws ValidationError for an empty name
 */
export function escapeRoutingWord(name: string): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ValidationError('routing word: must be a non-empty string', [
      { path: '', message: 'must be a non-empty string' },
    ]);
  }
  if (name === UNPLACED_SERVER) return '%5F';
  return name.replace(/[%.*#]/g, (c) => ESCAPES[c]!);
}

/** Undo {@link escapeRoutingWord}. */
export function unescapeRoutingWord(word: string): string {
  return word.replace(/%(25|2E|2A|23|5F)/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** @internal Throw a ValidationError when a key or pattern is longer than AMQP allows. */
export function checkRoutingKeyLength(key: string, path = 'routingKey'): string {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_ROUTING_KEY_BYTES) {
    const message = `is ${bytes} bytes, more than the ${MAX_ROUTING_KEY_BYTES}-byte limit`;
    throw new ValidationError(`${path}: ${message}`, [{ path, message }]);
  }
  return key;
}

/**
 * The routing key of an event: `evt.<region>.<server|_>.<type>`, each part escaped.
 *
 * @example
 * ```ts
 * eventRoutingKey({ type: 'droplet.create', region: 'nyc1', serverId: null });
 * // 'evt.nyc1._.droplet%2Ecreate'
 * ```
 * @throws ValidationError for an empty name or a key over 255 bytes
 */
export function eventRoutingKey(event: EventRoutingFields): string {
  const server = event.serverId == null ? UNPLACED_SERVER : escapeRoutingWord(event.serverId);
  return checkRoutingKeyLength(
    `${EVENT_KEY_PREFIX}.${escapeRoutingWord(event.region)}.${server}.${escapeRoutingWord(event.type)}`,
  );
}

/** Parse an event routing key back into its parts, or null when `key` is not one. */
export function parseEventRoutingKey(key: string): EventRoutingFields | null {
  const words = key.split('.');
  if (words.length !== 4 || words[0] !== EVENT_KEY_PREFIX || words.some((w) => w === '')) return null;
  const [, region, server, type] = words as [string, string, string, string];
  return {
    region: unescapeRoutingWord(region),
    serverId: server === UNPLACED_SERVER ? null : unescapeRoutingWord(server),
    type: unescapeRoutingWord(type),
  };
}

/** Every event of a region, placed or not. */
export function regionPattern(region: string): string {
  return `${EVENT_KEY_PREFIX}.${escapeRoutingWord(region)}.*.*`;
}

/** Every event placed on one server of a region. */
export function serverPattern(region: string, serverId: string): string {
  return `${EVENT_KEY_PREFIX}.${escapeRoutingWord(region)}.${escapeRoutingWord(serverId)}.*`;
}

/** Events of a region not placed on a server yet (scheduler intake). */
export function unplacedPattern(region: string): string {
  return `${EVENT_KEY_PREFIX}.${escapeRoutingWord(region)}.${UNPLACED_SERVER}.*`;
}

/** Events of one type, in one region or (default) in all. */
export function typePattern(type: string, region?: string): string {
  const r = region === undefined ? '*' : escapeRoutingWord(region);
  return `${EVENT_KEY_PREFIX}.${r}.*.${escapeRoutingWord(type)}`;
}

/**
 * True when `routingKey` matches the topic `pattern` the way a RabbitMQ topic exchange matches
 * it: words split on `.`, `*` matches exactly one word, `#` zero or more.
 */
export function topicMatches(pattern: string, routingKey: string): boolean {
  return compileTopic(pattern)(routingKey);
}

/** Compile a topic pattern into a matcher, once, for a bus that matches every publish itself (the memory bus). */
export function compileTopic(pattern: string): (routingKey: string) => boolean {
  const p = pattern.split('.');
  if (!p.includes('#') && !p.includes('*')) return (key) => key === pattern;
  return (key) => {
    const k = key.split('.');
    // reachable[j]: pattern words [0, i) can match key words [0, j)
    let reachable: boolean[] = new Array<boolean>(k.length + 1).fill(false);
    reachable[0] = true;
    for (const word of p) {
      const next: boolean[] = new Array<boolean>(k.length + 1).fill(false);
      for (let j = 0; j <= k.length; j++) {
        if (!reachable[j]) continue;
        if (word === '#') {
          for (let m = j; m <= k.length; m++) next[m] = true;
          break;
        }
        if (j < k.length && (word === '*' || word === k[j])) next[j + 1] = true;
      }
      reachable = next;
    }
    return reachable[k.length] === true;
  };
}
