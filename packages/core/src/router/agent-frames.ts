/**
 * Reading one frame from an agent: bounded before it is parsed, parsed no further than the
 * session's state allows (before its hello, an agent may send one small hello and nothing else),
 * and refused with a message naming the field and the rule.
 *
 * @internal
 * @module
 */
import { describeIssues, issuesFromZod } from '../validation.js';
import { AGENT_FRAME_BUDGET, frameLimitIssue, HELLO_FRAME_BUDGET } from './frame-limits.js';
import { type AgentFrame, agentFrameSchema } from './protocol.js';

/** @internal A frame, or why it was refused. */
export type FrameRead = { readonly frame: AgentFrame } | { readonly error: string };

/** @internal Read `text` from an agent that has (`welcomed`) or has not said hello yet. */
export function readAgentFrame(text: string, welcomed: boolean): FrameRead {
  const limit = frameLimitIssue(text, welcomed ? AGENT_FRAME_BUDGET : HELLO_FRAME_BUDGET);
  if (limit) return { error: welcomed ? limit : `${limit} before hello` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { error: 'frame is not JSON' };
  }
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  const name = typeof type === 'string' ? JSON.stringify(type.slice(0, 24)) : 'no type';
  if (!welcomed && type !== 'hello') return { error: `expected hello, got ${name}` };
  if (welcomed && type === 'hello') return { error: 'unexpected second hello' };
  const parsed = agentFrameSchema.safeParse(raw);
  if (!parsed.success)
    return { error: `invalid ${name} frame: ${describeIssues(issuesFromZod(parsed.error))}` };
  return { frame: parsed.data };
}
