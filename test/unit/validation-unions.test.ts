/**
 * A value that matches no branch of a union gets an error naming the field and the rule of the
 * branch it came closest to, not zod's bare "(root): Invalid input" (issue 13, doc mismatches).
 */
import { isCtlplaneError } from '@ctlplane/core';
import { parseOrThrow } from '@ctlplane/core/driver';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { transitionSchema } from '../../packages/core/src/store/schemas.js';

// The shapes of Harpoon's POST /v1/transitions body.
const body = z.union([
  z.object({ transition: transitionSchema }).strict(),
  z.object({ transitions: z.array(transitionSchema).max(5_000) }).strict(),
]);

function messageOf(input: unknown): string {
  try {
    parseOrThrow(body, input, 'body');
  } catch (err) {
    expect(isCtlplaneError(err, 'VALIDATION')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('parsed');
}

describe('union errors', () => {
  it('name the field and the rule of the closest branch', () => {
    expect(messageOf({ transitions: [{ id: 1, to: 'nope', from: 'placed' }] })).toBe(
      'invalid body: transitions.0.to: Invalid option: expected one of "pending"|"placed"|"claimed"|"running"|"done"|"failed"|"cancelled"',
    );
    expect(messageOf({ transitions: 'x' })).toBe(
      'invalid body: transitions: Invalid input: expected array, received string',
    );
    expect(messageOf(5)).toBe('invalid body: (root): Invalid input: expected object, received number');
  });

  it('list each shape when no branch comes closer', () => {
    expect(messageOf({})).toBe(
      'invalid body: (root): must match one of 2 shapes: transition: Invalid input: expected object, received undefined | transitions: Invalid input: expected array, received undefined',
    );
  });
});
