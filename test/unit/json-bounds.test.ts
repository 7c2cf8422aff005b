/**
 * The raw-text JSON bounds checked before any peer's JSON is parsed: exact depth and item counts,
 * strings (escaped quotes, brackets inside strings, multi-byte characters) skipped correctly, no
 * stack overflow at any depth, and agreement with the parsed value's real depth.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonTextIssue, parseBoundedJson } from '../../packages/core/src/json-bounds.js';

/** Depth of a parsed value, the outermost container counting 1 (iterative). */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    max = Math.max(max, d + 1);
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

describe('jsonTextIssue', () => {
  it('refuses nesting one level past maxDepth, and accepts it at maxDepth', () => {
    const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(jsonTextIssue(nest(8), { maxDepth: 8 })).toBeNull();
    expect(jsonTextIssue(nest(9), { maxDepth: 8 })).toBe('must not nest deeper than 8 levels');
    expect(jsonTextIssue('{"a":{"b":[1]}}', { maxDepth: 2 })).toMatch(/deeper than 2/);
  });

  it('scans a million-deep text without recursion (no stack overflow)', () => {
    const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    expect(jsonTextIssue(deep, { maxDepth: 64 })).toMatch(/deeper than 64/);
    expect(jsonTextIssue(deep, { maxDepth: 2_000_000 })).toBeNull();
  });

  it('counts items per container, only down to maxItemsDepth', () => {
    const list = (n: number) => `[${Array.from({ length: n }, () => '0').join(',')}]`;
    expect(jsonTextIssue(list(5), { maxDepth: 4, maxItems: 5 })).toBeNull();
    expect(jsonTextIssue(list(6), { maxDepth: 4, maxItems: 5 })).toMatch(/more than 5 items/);
    expect(jsonTextIssue(`{"a":1,"b":2,"c":3}`, { maxDepth: 4, maxItems: 2 })).toMatch(/more than 2/);
    // Items of a deeper container are free; the counts of sibling containers do not add up.
    expect(jsonTextIssue(`{"e":[${list(9)}]}`, { maxDepth: 4, maxItems: 5, maxItemsDepth: 2 })).toBeNull();
    expect(jsonTextIssue(`[${list(4)},${list(4)}]`, { maxDepth: 4, maxItems: 5 })).toBeNull();
  });

  it('stops at the first item over the bound (a 4M-item list is refused after 5,001)', () => {
    const huge = `{"events":[${'0,'.repeat(4_000_000)}0]}`;
    const t0 = performance.now();
    expect(jsonTextIssue(huge, { maxDepth: 67, maxItems: 5_000, maxItemsDepth: 2 })).toMatch(/5000/);
    // Linear in the bytes it looks at: the refusal needs ~10 kB of the 8 MB (generous bound: loaded CI).
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('skips strings: brackets, commas, escaped quotes and backslashes inside them do not count', () => {
    const tricky = JSON.stringify({ s: '[[[{{{,,,\\"]]]', t: 'a\\', u: '"\\"\\\\"', v: 'é€😀[' });
    expect(jsonTextIssue(tricky, { maxDepth: 1, maxItems: 4 })).toBeNull();
    expect(jsonTextIssue(Buffer.from(tricky), { maxDepth: 1, maxItems: 4 })).toBeNull();
  });

  it('agrees with the depth of the parsed value, on random JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), fc.integer({ min: 1, max: 14 }), (value, maxDepth) => {
        const text = JSON.stringify(value);
        const refused = jsonTextIssue(text, { maxDepth }) !== null;
        expect(refused).toBe(depthOf(value) > maxDepth);
      }),
      { numRuns: 500, seed: 20_251_130 },
    );
  });
});

describe('parseBoundedJson', () => {
  it('parses within bounds and answers every failure with a ValidationError naming the input', () => {
    expect(parseBoundedJson(Buffer.from('{"a":[1,2]}'), { maxDepth: 2 }, 'body')).toEqual({ a: [1, 2] });
    for (const bad of ['{"a":', '[[[1]]]', '\u0000'])
      expect(() => parseBoundedJson(bad, { maxDepth: 2 }, 'body')).toThrow(
        expect.objectContaining({ code: 'VALIDATION', issues: [expect.objectContaining({ path: 'body' })] }),
      );
  });
});
