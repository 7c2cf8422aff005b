/**
 * Payload schemas made strict: an object schema written with `z.object` (zod's default is to drop
 * unknown keys silently) refuses unknown keys instead, at every depth, so a misspelt or stray
 * field in an append is a `ValidationError` naming it rather than data quietly lost.
 *
 * Only the schema's structure is rebuilt (objects, and the wrappers and containers around them),
 * each node with `clone` and its own definition, so refinements, defaults, transforms and messages
 * are kept. Left as written: `z.looseObject` / `.passthrough()` (unknown keys kept and stored),
 * `z.strictObject` (already strict), intersections (each side would refuse the other's keys) and
 * `z.lazy` (resolved only when parsed).
 *
 * @module
 */
import { z } from 'zod';

/** The parts of a zod 4 schema (classic or mini) this module reads. */
interface Node {
  _zod: { def: Record<string, unknown> & { type: string } };
  clone(def: Record<string, unknown>): Node;
}

/** Definition keys holding one inner schema, per schema type. */
const INNER: Readonly<Record<string, readonly string[]>> = {
  array: ['element'],
  optional: ['innerType'],
  nullable: ['innerType'],
  nonoptional: ['innerType'],
  default: ['innerType'],
  prefault: ['innerType'],
  catch: ['innerType'],
  readonly: ['innerType'],
  success: ['innerType'],
  record: ['valueType'],
  // Only the input side of a pipe sees the caller's keys; the output side sees a transform's.
  pipe: ['in'],
};

/** @internal `schema` with every `z.object` in it refusing unknown keys. */
export function strictPayload<S extends z.ZodType>(schema: S): S {
  return strictNode(schema as unknown as Node, new Map()) as unknown as S;
}

function strictNode(node: Node, done: Map<Node, Node>): Node {
  const seen = done.get(node);
  if (seen) return seen;
  const def = node._zod?.def;
  if (!def || typeof node.clone !== 'function') return node;
  if (def.type === 'object') return strictObject(node, def, done);
  let next: Record<string, unknown> | null = null;
  for (const key of INNER[def.type] ?? []) {
    const inner = def[key] as Node | undefined;
    const strict = inner ? strictNode(inner, done) : inner;
    if (strict !== inner) next = { ...(next ?? def), [key]: strict };
  }
  if (def.type === 'union' || def.type === 'tuple') {
    const key = def.type === 'union' ? 'options' : 'items';
    const list = def[key] as Node[];
    const strict = list.map((n) => strictNode(n, done));
    if (strict.some((n, i) => n !== list[i])) next = { ...(next ?? def), [key]: strict };
  }
  const out = next ? node.clone(next) : node;
  done.set(node, out);
  return out;
}

function strictObject(node: Node, def: Node['_zod']['def'], done: Map<Node, Node>): Node {
  const shape = def.shape as Record<string, Node>;
  const next: Record<string, Node> = {};
  // The copy is registered before its fields are walked: a recursive schema refers back to it.
  // zod reads `shape` lazily, once the fields below are filled in. A catchall set on purpose
  // (loose or strict) is kept; the objects inside are still reached.
  const out = node.clone({
    ...def,
    get shape() {
      return next;
    },
    catchall: def.catchall ?? z.never(),
  });
  done.set(node, out);
  for (const key of Object.keys(shape)) {
    const desc = Object.getOwnPropertyDescriptor(shape, key)!;
    if (desc.get) {
      // A getter (zod's way to write a recursive schema) stays one, resolved on first use.
      let cached: Node | undefined;
      Object.defineProperty(next, key, {
        enumerable: true,
        get: () => {
          cached ??= strictNode(desc.get!.call(shape) as Node, done);
          return cached;
        },
      });
    } else {
      next[key] = strictNode(desc.value as Node, done);
    }
  }
  return out;
}
