/**
 * A handler's result as it will travel and be stored: plain JSON, nested no deeper than the store
 * allows, no larger than the store's result limit (which also fits one acknowledgement frame). A result that breaks a rule cannot be
 * delivered (the router would close the connection, and the agent would send it again after every
 * reconnect), so its event fails instead, with the rule as the error.
 *
 * @internal
 * @module
 */
import { MAX_JSON_DEPTH } from '../../events/json-check.js';
import { MAX_RESULT_BYTES } from '../../events/limits.js';
import type { JsonValue } from '../../events/model.js';
import { exceedsBytes, frameLimitIssue } from '../frame-limits.js';

/** @internal The result as JSON data (dates become strings, functions vanish), or why it cannot be sent. */
export function checkResult(value: JsonValue): { readonly result: JsonValue } | { readonly problem: string } {
  let text: string;
  try {
    text = JSON.stringify(value) ?? 'null';
  } catch (err) {
    return { problem: `result is not JSON data: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (exceedsBytes(text, MAX_RESULT_BYTES))
    return { problem: `result must be at most ${MAX_RESULT_BYTES} bytes as JSON` };
  const depth = frameLimitIssue(text, {
    maxBytes: MAX_RESULT_BYTES,
    maxDepth: MAX_JSON_DEPTH,
    maxMembers: Number.POSITIVE_INFINITY,
  });
  if (depth) return { problem: `result must not nest deeper than ${MAX_JSON_DEPTH} levels` };
  return { result: JSON.parse(text) as JsonValue };
}
