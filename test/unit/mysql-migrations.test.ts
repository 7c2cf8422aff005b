/**
 * Every MySQL backend contributes migrations to one list, recorded by version in one table: two
 * migrations with one version would make `migrate()` skip the second as already applied. The
 * guides say how many tables a prefix gets; that number follows the migrations.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MIGRATIONS } from '@ctlplane/adapters/mysql';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
];

/** The tables the migrations create for prefix `p_`, and `p_migrations`, which migrate() creates. */
function tables(): string[] {
  const dialect = { mariadb: true, binaryCollation: 'utf8mb4_nopad_bin' };
  const created = MIGRATIONS.flatMap((m) => m.up('p_', dialect)).flatMap((sql) =>
    [...sql.matchAll(/CREATE TABLE IF NOT EXISTS `(p_\w+)`/g)].map((x) => x[1]!),
  );
  return [...new Set([...created, 'p_migrations'])].sort();
}

describe('MySQL migrations', () => {
  it('have unique versions, in increasing order', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });

  it.each(['docs/event-store.md', 'docs/adapters.md', 'packages/adapters/README.md'])(
    '%s gives the number of tables a prefix gets',
    (file) => {
      const text = readFileSync(`${ROOT}/${file}`, 'utf8');
      const said = [...text.matchAll(/\b(\w+) tables per (?:table )?prefix/gi)].map((m) =>
        m[1]!.toLowerCase(),
      );
      expect(said.length, `${file} names no count`).toBeGreaterThan(0);
      expect(said, tables().join(', ')).toEqual(said.map(() => WORDS[tables().length]));
    },
  );
});
