/**
 * Every MySQL backend contributes migrations to one list, recorded by version in one table: two
 * migrations with one version would make `migrate()` skip the second as already applied.
 */
import { MIGRATIONS } from '@ctlplane/adapters/mysql';
import { describe, expect, it } from 'vitest';

describe('MySQL migrations', () => {
  it('have unique versions, in increasing order', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });
});
