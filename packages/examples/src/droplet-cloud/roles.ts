/**
 * `--role`: one component per process.
 */
import type { Logger } from '@ctlplane/core';
import type { CloudOptions } from './cli.js';
import { startAgentsRole } from './roles/agents-role.js';
import { startApiRole } from './roles/api-role.js';
import { startHarpoonRole } from './roles/harpoon-role.js';
import type { RunningRole } from './roles/role.js';
import { startRouterRole } from './roles/router-role.js';
import { startSchedulerRole } from './roles/scheduler-role.js';

const ROLES = {
  harpoon: startHarpoonRole,
  api: startApiRole,
  scheduler: startSchedulerRole,
  router: startRouterRole,
  agents: startAgentsRole,
} as const;

/** Start the component `o.role` names. */
export function startRole(
  o: CloudOptions,
  logger: Logger,
  say: (line: string) => void,
): Promise<RunningRole> {
  if (o.role === 'all') throw new Error('startRole: role "all" runs through startCloud');
  return ROLES[o.role](o, logger.child(o.role), say);
}
