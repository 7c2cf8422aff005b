/**
 * Per-region index of active servers, bucketed by their estimated score (the request-independent
 * part of the weighted strategy mix). Each bucket keeps an upper bound of the free capacity of its
 * members per resource, so a walk from the best bucket down skips buckets where nothing can fit;
 * bounds only grow on insert and are tightened whenever a walk scans a whole bucket.
 *
 * @internal
 * @module
 */
import type { ServerEntry } from './server-entry.js';

/** @internal Buckets over the 0..100 estimate range. */
export const BUCKETS = 1024;

/** @internal The active servers of one region. */
export class Partition {
  readonly buckets: ServerEntry[][] = Array.from({ length: BUCKETS }, () => []);
  /** Upper bound of free capacity per bucket and slot (row-major: bucket × width). */
  bounds: Float64Array;
  width: number;
  /** Every member, for random sampling. */
  readonly members: ServerEntry[] = [];
  /** Highest non-empty bucket may be at or below this. */
  top = -1;

  constructor(width: number) {
    this.width = width;
    this.bounds = new Float64Array(BUCKETS * width).fill(Number.POSITIVE_INFINITY);
  }

  /** Resize for a new resource: bounds become unknown (infinite) until the next scans. */
  widen(width: number): void {
    this.width = width;
    this.bounds = new Float64Array(BUCKETS * width).fill(Number.POSITIVE_INFINITY);
  }

  /** True when the bucket's bound says every slot of `need` might fit. */
  mayFit(bucket: number, need: Float64Array, slots: readonly number[]): boolean {
    const base = bucket * this.width;
    for (let k = 0; k < slots.length; k++) {
      const i = slots[k]!;
      if (i < this.width && this.bounds[base + i]! < need[i]!) return false;
    }
    return true;
  }

  /** Replace a bucket's bound with the exact maximum over its members (after a full scan). */
  tighten(bucket: number): void {
    const base = bucket * this.width;
    this.bounds.fill(Number.NEGATIVE_INFINITY, base, base + this.width);
    for (const e of this.buckets[bucket]!) this.#raise(bucket, e);
  }

  #raise(bucket: number, e: ServerEntry): void {
    const base = bucket * this.width;
    for (let i = 0; i < this.width; i++) {
      const free = (e.usable[i] ?? 0) - (e.used[i] ?? 0);
      if (free > this.bounds[base + i]!) this.bounds[base + i] = free;
    }
  }

  /** Put (or move) an entry at the bucket of `estimate`. */
  place(e: ServerEntry, estimate: number): void {
    const b = Math.max(0, Math.min(BUCKETS - 1, Math.floor((estimate / 100) * BUCKETS)));
    e.estimate = estimate;
    if (e.bucket !== b) {
      if (e.bucket >= 0) this.#unlink(e);
      else {
        e.memberPos = this.members.length;
        this.members.push(e);
      }
      const list = this.buckets[b]!;
      e.bucket = b;
      e.pos = list.length;
      list.push(e);
      if (b > this.top) this.top = b;
    }
    this.#raise(b, e);
  }

  /** Take an entry out of the index (it became inactive or left the region). */
  remove(e: ServerEntry): void {
    if (e.bucket < 0) return;
    this.#unlink(e);
    const last = this.members.pop()!;
    if (last !== e) {
      this.members[e.memberPos] = last;
      last.memberPos = e.memberPos;
    }
    e.bucket = -1;
    e.memberPos = -1;
  }

  #unlink(e: ServerEntry): void {
    const list = this.buckets[e.bucket]!;
    const last = list.pop()!;
    if (last !== e) {
      list[e.pos] = last;
      last.pos = e.pos;
    }
    e.pos = -1;
  }
}

/** Shape classes per region before new shapes share one mixed class. */
const MAX_CLASSES = 16;

/**
 * @internal The active servers of one region, one {@link Partition} per server shape (usable
 * capacity vector). Within a shape, allocation strategies are (nearly) linear in the demand, so
 * the order by the reference request's score is the order for any request; across shapes it is
 * not, which is why each shape is walked on its own.
 */
export class RegionIndex {
  readonly classes: Partition[] = [];
  readonly #byShape = new Map<string, Partition>();
  #width: number;

  constructor(width: number) {
    this.#width = width;
  }

  /** Active servers in the region. */
  get size(): number {
    let n = 0;
    for (const p of this.classes) n += p.members.length;
    return n;
  }

  /** The partition of a shape (created on first use). */
  partitionFor(shape: string): Partition {
    let p = this.#byShape.get(shape);
    if (p) return p;
    if (this.classes.length >= MAX_CLASSES) return this.classes[MAX_CLASSES - 1]!;
    p = new Partition(this.#width);
    this.#byShape.set(shape, p);
    this.classes.push(p);
    return p;
  }

  widen(width: number): void {
    this.#width = width;
    for (const p of this.classes) p.widen(width);
  }

  /** A uniformly random member, or undefined when the region is empty. */
  sample(random: () => number): ServerEntry | undefined {
    let k = Math.floor(random() * this.size);
    for (const p of this.classes) {
      if (k < p.members.length) return p.members[k];
      k -= p.members.length;
    }
    return undefined;
  }
}
