/**
 * checkJson counts exactly the UTF-8 bytes of `JSON.stringify(value)`, on its fast path (strings
 * that need no escape) and its exact one (quotes, backslashes, control characters, surrogates).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJson } from '../../packages/core/src/events/json-check.js';

const chars = ['a', 'é', '"', '\\', '\n', '\u0001', '\u001f', '\ud800', '\udfff', '😀', '€', '\u007f', ' '];
const text = fc.array(fc.constantFrom(...chars), { maxLength: 40 }).map((a) => a.join(''));
const value = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('json'), { maxLength: 5 }),
    fc.dictionary(text, tie('json'), { maxKeys: 5 }),
  ),
})).json;

describe('checkJson byte count', () => {
  it('equals the UTF-8 size of JSON.stringify for any JSON value', () => {
    fc.assert(
      fc.property(value, (v) => {
        const check = checkJson(v, 'v');
        expect(check.issue).toBeNull();
        expect((check as { bytes: number }).bytes).toBe(Buffer.byteLength(JSON.stringify(v), 'utf8'));
      }),
      { numRuns: 2_000 },
    );
  });

  it('counts a large plain string without escapes as its length plus the quotes', () => {
    const big = 'y'.repeat(500_000);
    expect(checkJson({ d: big }, 'v')).toEqual({ issue: null, bytes: 500_000 + '{"d":""}'.length });
  });
});
