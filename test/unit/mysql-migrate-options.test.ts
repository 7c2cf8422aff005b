/**
 * regression(migrate-to-nan), review of 2026-12-06: `migrate({ to })` was not validated, and
 * `m.version > NaN` is false for every migration, so `to: NaN` applied all of them. `to` is now an
 * integer ≥ 0 (and `lockTimeoutS` 0 to 86,400), refused before any connection is made.
 */
import { migrate } from '@ctlplane/adapters/mysql';
import { ValidationError } from '@ctlplane/core';
import { expect, it } from 'vitest';

// Nothing listens here: a call that got past validation would fail to connect instead.
const url = 'mysql://root@127.0.0.1:1/none';

it.each([
  ['to', { to: Number.NaN }],
  ['to', { to: -1 }],
  ['to', { to: 1.5 }],
  ['to', { to: '2026120630' as unknown as number }],
  ['lockTimeoutS', { lockTimeoutS: -1 }],
  ['lockTimeoutS', { lockTimeoutS: Number.POSITIVE_INFINITY }],
])('refuses a bad %s, naming it, before connecting: %j', async (field, bad) => {
  const err = await migrate({ url, ...bad }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).issues.map((i) => i.path)).toEqual([field]);
});
