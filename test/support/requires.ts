import { describe, inject } from 'vitest';
import { SERVICE_LABEL, type ServiceName } from './services.js';

/**
 * `describe` for a suite that needs a real service: skipped (with the reason in its name, so the
 * summary shows it) when the service is unreachable; global setup already failed the run under CI=true.
 */
export function describeWith(service: ServiceName, name: string, fn: () => void): void {
  const status = inject('services')[service];
  if (status.available) {
    describe(name, fn);
  } else {
    describe.skip(`${name} [SKIPPED: ${SERVICE_LABEL[service]} unreachable: ${status.reason}]`, fn);
  }
}
