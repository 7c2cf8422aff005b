/**
 * Bounds a frame must meet before it is parsed. A frame is text from a peer; `JSON.parse` and
 * zod both cost time and memory in proportion to it, and zod's recursive schemas cost stack in
 * proportion to its nesting (an ack `result` nested 1,700 deep overflowed the router's stack). So
 * the raw text is measured first, in linear passes that cannot overflow the stack, and only a
 * frame within its budget is parsed.
 *
 * @internal
 * @module
 */
import { Buffer } from 'node:buffer';
import { jsonTextIssue } from '../json-bounds.js';
import {
  MAX_FRAME_BYTES,
  MAX_FRAME_DEPTH,
  MAX_HELLO_FRAME_BYTES,
  MAX_ROUTER_FRAME_BYTES,
} from './protocol.js';

/** @internal What a frame may hold, checked on its raw text. */
export interface FrameBudget {
  /** Largest frame, in UTF-8 bytes. */
  readonly maxBytes: number;
  /** Deepest nesting of objects and arrays (the frame's own object is level 1). */
  readonly maxDepth: number;
  /** Most members of any one object or array. */
  readonly maxMembers: number;
}

/** @internal A frame from an agent that has not been welcomed yet: only a small, flat hello. */
export const HELLO_FRAME_BUDGET: FrameBudget = {
  maxBytes: MAX_HELLO_FRAME_BYTES,
  maxDepth: 1,
  maxMembers: 8,
};
/**
 * @internal A frame from a welcomed agent. Its lists are bounded by the schema, which checks each
 * bound before it parses the items (acknowledgements 1,000, metrics 64).
 */
export const AGENT_FRAME_BUDGET: FrameBudget = {
  maxBytes: MAX_FRAME_BYTES,
  maxDepth: MAX_FRAME_DEPTH,
  maxMembers: Number.POSITIVE_INFINITY,
};
/** @internal A frame from a router, as an agent checks it. */
export const ROUTER_FRAME_BUDGET: FrameBudget = {
  maxBytes: MAX_ROUTER_FRAME_BYTES,
  maxDepth: MAX_FRAME_DEPTH,
  maxMembers: Number.POSITIVE_INFINITY,
};

/** @internal UTF-8 size of `text` over `max`, computed only when its length alone cannot decide. */
export function exceedsBytes(text: string, max: number): boolean {
  // A UTF-16 code unit takes 1 to 3 bytes in UTF-8.
  if (text.length > max) return true;
  return text.length * 3 > max && Buffer.byteLength(text, 'utf8') > max;
}

/**
 * @internal The first bound `text` breaks, as a short message, or null: its size first, then its
 * nesting and members by core's iterative scan (the one Harpoon's bodies go through). Text that is
 * not JSON at all is left for `JSON.parse` to refuse.
 */
export function frameLimitIssue(text: string, budget: FrameBudget): string | null {
  if (exceedsBytes(text, budget.maxBytes)) return `frame larger than ${budget.maxBytes} bytes`;
  const issue = jsonTextIssue(text, { maxDepth: budget.maxDepth, maxItems: budget.maxMembers });
  return issue === null ? null : `frame ${issue}`;
}
