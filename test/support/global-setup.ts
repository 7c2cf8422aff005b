import type { TestProject } from 'vitest/node';
import {
  probe,
  SERVICE_LABEL,
  SERVICE_START_HINT,
  type ServiceName,
  type ServiceStatus,
} from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    services: Record<ServiceName, ServiceStatus>;
  }
}

let skipped: string[] = [];

function banner(lines: string[]): void {
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\n${lines.map((l) => `!! ${l}`).join('\n')}\n${bar}\n\n`);
}

/**
 * Probes MariaDB and RabbitMQ once for the whole run. Under CI=true a missing service fails the run;
 * elsewhere the suites that need it are skipped and this banner says so at the start and at the end.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const names: ServiceName[] = ['mysql', 'amqp'];
  const statuses = await Promise.all(names.map((n) => probe(n)));
  const services = Object.fromEntries(names.map((n, i) => [n, statuses[i]])) as Record<
    ServiceName,
    ServiceStatus
  >;
  const missing = names.filter((n) => !services[n].available);
  const describe = (n: ServiceName) =>
    `${SERVICE_LABEL[n]} unreachable at ${services[n].url} (${services[n].reason}); ${SERVICE_START_HINT[n]}`;
  if (missing.length > 0 && process.env.CI === 'true') {
    throw new Error(`CI=true and a required service is missing:\n${missing.map(describe).join('\n')}`);
  }
  skipped = missing.map((n) => `SKIPPING every ${SERVICE_LABEL[n]} suite: ${describe(n)}`);
  if (skipped.length > 0) banner(skipped);
  project.provide('services', services);
  return () => {
    if (skipped.length > 0) banner(['Suites were SKIPPED because services were unreachable:', ...skipped]);
  };
}
