import {
  ALL_EVENTS_PATTERN,
  escapeRoutingWord,
  eventRoutingKey,
  parseEventRoutingKey,
  regionPattern,
  serverPattern,
  topicMatches,
  typePattern,
  unplacedPattern,
} from '@ctlplane/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** Reference matcher: the AMQP topic rules written as plainly as possible. */
function reference(pattern: string[], key: string[]): boolean {
  if (pattern.length === 0) return key.length === 0;
  const [head, ...rest] = pattern;
  if (head === '#') return reference(rest, key) || (key.length > 0 && reference(pattern, key.slice(1)));
  if (key.length === 0) return false;
  return (head === '*' || head === key[0]) && reference(rest, key.slice(1));
}

describe('event routing keys', () => {
  it('escapes each name into exactly one word', () => {
    expect(eventRoutingKey({ type: 'droplet.create', region: 'nyc1', serverId: null })).toBe(
      'evt.nyc1._.droplet%2Ecreate',
    );
    expect(eventRoutingKey({ type: 'a*b#c%d', region: 'r', serverId: '_' })).toBe('evt.r.%5F.a%2Ab%23c%25d');
  });

  it('round-trips any names through parse, with no wildcard leaking into the key', () => {
    const name = fc.string({ minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(name, name, fc.option(name, { nil: null }), (type, region, serverId) => {
        const key = eventRoutingKey({ type, region, serverId });
        expect(key.split('.')).toHaveLength(4);
        expect(key).not.toMatch(/[*#]/);
        expect(parseEventRoutingKey(key)).toEqual({ type, region, serverId });
      }),
    );
  });

  it('refuses empty names and keys over 255 bytes', () => {
    expect(() => escapeRoutingWord('')).toThrow(expect.objectContaining({ code: 'VALIDATION' }));
    expect(() => eventRoutingKey({ type: 'é'.repeat(130), region: 'r', serverId: null })).toThrow(/255-byte/);
  });

  it('selects by region, server, unplaced and type', () => {
    const key = (type: string, region: string, serverId: string | null) =>
      eventRoutingKey({ type, region, serverId });
    const placed = key('droplet.create', 'nyc.1', 's*1');
    const unplaced = key('droplet.create', 'nyc.1', null);
    expect(topicMatches(regionPattern('nyc.1'), placed)).toBe(true);
    expect(topicMatches(regionPattern('nyc'), placed)).toBe(false);
    expect(topicMatches(serverPattern('nyc.1', 's*1'), placed)).toBe(true);
    expect(topicMatches(serverPattern('nyc.1', 's*2'), placed)).toBe(false);
    expect(topicMatches(serverPattern('nyc.1', 's*1'), unplaced)).toBe(false);
    expect(topicMatches(unplacedPattern('nyc.1'), unplaced)).toBe(true);
    expect(topicMatches(unplacedPattern('nyc.1'), placed)).toBe(false);
    expect(topicMatches(typePattern('droplet.create'), placed)).toBe(true);
    expect(topicMatches(typePattern('droplet'), placed)).toBe(false);
    expect(topicMatches(typePattern('droplet.create', 'ams3'), placed)).toBe(false);
    expect(topicMatches(ALL_EVENTS_PATTERN, placed)).toBe(true);
    expect(parseEventRoutingKey('other.key')).toBeNull();
  });
});

describe('topicMatches', () => {
  it('follows the RabbitMQ tutorial examples', () => {
    expect(topicMatches('*.orange.*', 'quick.orange.rabbit')).toBe(true);
    expect(topicMatches('*.*.rabbit', 'quick.orange.rabbit')).toBe(true);
    expect(topicMatches('lazy.#', 'lazy')).toBe(true);
    expect(topicMatches('lazy.#', 'lazy.orange.male.rabbit')).toBe(true);
    expect(topicMatches('*.orange.*', 'quick.orange.male.rabbit')).toBe(false);
    expect(topicMatches('*.orange.*', 'orange')).toBe(false);
    expect(topicMatches('#', 'anything.at.all')).toBe(true);
    expect(topicMatches('a.#.b', 'a.b')).toBe(true);
    expect(topicMatches('a.#.b', 'a.x.y.b')).toBe(true);
    expect(topicMatches('a.#.b', 'a.x.y')).toBe(false);
  });

  it('agrees with a reference matcher on random patterns and keys', () => {
    const word = fc.constantFrom('a', 'b', 'c');
    const patternWord = fc.constantFrom('a', 'b', '*', '#');
    fc.assert(
      fc.property(
        fc.array(patternWord, { minLength: 1, maxLength: 6 }),
        fc.array(word, { minLength: 1, maxLength: 6 }),
        (p, k) => {
          expect(topicMatches(p.join('.'), k.join('.'))).toBe(reference(p, k));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
