/**
 * The scheduler validates each event's request with a fast check and falls back to zod's
 * `requestSpecSchema` for anything the fast check is not sure of. The two must agree: the fast check
 * never accepts what zod refuses (nor returns other data), and on plain data it accepts exactly what
 * zod accepts. As the bus's `isCertainlyValid` is held to `outgoingMessageSchema`
 * (bus-model.test.ts), fast-check holds them together here.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isCertainlyValidSpec,
  parseRequestSpec,
  requestSpecSchema,
} from '../../packages/core/src/scheduler/runtime/request-spec.js';

const emoji = (n: number) => '😀'.repeat(n); // one code point, two UTF-16 units each

const resourceName = fc.oneof(
  fc.constantFrom('cpu', 'memory', 'nvidia.com-gpu', 'a'.repeat(64), 'a'.repeat(65), '1cpu', 'bad key', ''),
  fc.string({ maxLength: 8 }),
);
const amount = fc.oneof(
  fc.nat(),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 1.5, -0, Number.NaN, Infinity),
  fc.constantFrom('2', null, true),
);
/** Strings around a limit, counted in code points and in UTF-16 units. */
const nearLimit = (limit: number) =>
  fc.oneof(
    fc.integer({ min: limit - 8, max: limit + 8 }).map((n) => emoji(Math.max(n, 0))),
    fc
      .tuple(fc.integer({ min: 0, max: limit + 2 }), fc.integer({ min: 0, max: limit + 2 }))
      .map(([ascii, wide]) => 'a'.repeat(ascii) + emoji(wide)),
    fc.integer({ min: limit - 2, max: limit + 2 }).map((n) => 'e\u0301'.repeat(Math.ceil(n / 2))),
  );
const labelText = (limit: number) =>
  fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 12 }), // lone surrogates included
    nearLimit(limit),
    fc.constantFrom('', 'tab\there', 'nul\u0000', 'del\u007f', 'c1\u0085'),
  );
const noProto = (k: string) => k !== '__proto__';
const labels = fc.dictionary(labelText(128).filter(noProto), fc.oneof(labelText(191), fc.integer()), {
  maxKeys: 6,
});
const manyKeys = (max: number) =>
  fc
    .integer({ min: max - 1, max: max + 1 })
    .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'])));
const demand = fc.oneof(
  fc.dictionary(resourceName.filter(noProto), amount, { maxKeys: 5 }),
  fc
    .integer({ min: 31, max: 33 })
    .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`r${i}`, 1]))),
);
const group = fc.oneof(
  fc.constantFrom(undefined, null, 'web', 'tenant:42/db', 'bad group', '', 7),
  fc.string({ maxLength: 8 }),
);

/** Plain data, as a `request` function returns it. */
const plainSpec = fc.oneof(
  fc.record({ demand, labels, group }, { requiredKeys: ['demand'] }),
  fc.record({ demand, labels: fc.oneof(labels, manyKeys(64)), extra: fc.anything() }, { requiredKeys: [] }),
);

class Box {
  cpu = 1;
}
/** What the fast check must leave to zod: other prototypes, symbol keys, `__proto__` keys. */
const exotic = fc.oneof(
  fc.constant({ demand: new Date() }),
  fc.constant({ demand: new Box() }),
  fc.constant({ demand: { cpu: 1 }, labels: new Map([['a', 'b']]) }),
  fc.constant(Object.assign([], { demand: { cpu: 1 } })),
  fc.constant(Object.assign(Object.create({ inherited: 1 }), { demand: { cpu: 1 } })),
  fc.constant({ demand: Object.create({ 'not a name': 1 }) }),
  fc.constant({ demand: { cpu: 1, [Symbol('s')]: 2 } }),
  fc.constant({ demand: { cpu: 1 }, labels: { a: 'b', [Symbol('s')]: 'c' } }),
  fc.constant(JSON.parse('{"demand":{"cpu":1},"labels":{"__proto__":"x","a":"b"}}')),
  fc.constant(JSON.parse('{"demand":{"__proto__":1,"cpu":2}}')),
  fc.anything(),
);

/** What `parseRequestSpec` returns, or the fact that it threw. */
function outcome(spec: unknown): unknown {
  try {
    return parseRequestSpec(spec, 'request');
  } catch (err) {
    return { threw: (err as { code?: string }).code };
  }
}

/** What zod alone makes of `spec`, in `parseRequestSpec`'s shape. */
function viaZod(spec: unknown): unknown {
  const r = requestSpecSchema.safeParse(spec);
  if (!r.success) return { threw: 'VALIDATION' };
  const { demand: d, labels: l, group: g } = r.data;
  return { demand: d, ...(l ? { labels: l } : {}), group: g ?? null };
}

describe('the scheduler’s request check and requestSpecSchema', () => {
  it('never accepts what zod refuses, and returns what zod would', () => {
    fc.assert(
      fc.property(fc.oneof(plainSpec, exotic), (spec) => {
        if (isCertainlyValidSpec(spec)) expect(requestSpecSchema.safeParse(spec).success).toBe(true);
        expect(outcome(spec)).toEqual(viaZod(spec));
      }),
      { numRuns: 3_000 },
    );
  });

  it('accepts exactly what zod accepts on plain data', () => {
    fc.assert(
      fc.property(plainSpec, (spec) => {
        expect(isCertainlyValidSpec(spec)).toBe(requestSpecSchema.safeParse(spec).success);
      }),
      { numRuns: 3_000 },
    );
  });

  it('counts label lengths in code points on both paths, whatever zod measures', () => {
    const cases: [string, boolean][] = [
      [emoji(100), true], // 200 UTF-16 units
      [emoji(128), true],
      [emoji(129), false],
      ['a'.repeat(127) + emoji(1), true],
      ['a'.repeat(128) + emoji(1), false],
    ];
    for (const [key, ok] of cases) {
      const spec = { demand: { cpu: 1 }, labels: { [key]: emoji(191) } };
      expect(isCertainlyValidSpec(spec), `${key.length} units`).toBe(ok);
      expect(requestSpecSchema.safeParse(spec).success, `${key.length} units`).toBe(ok);
    }
    expect(requestSpecSchema.safeParse({ demand: {}, labels: { k: emoji(192) } }).success).toBe(false);
    expect(isCertainlyValidSpec({ demand: {}, labels: { k: emoji(192) } })).toBe(false);
  });
});
