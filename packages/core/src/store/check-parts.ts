/**
 * The two parts of an `EventStore` that are objects rather than data, checked at construction.
 *
 * @module
 */
import { ValidationError, type ValidationIssue } from '../errors.js';
import type { EventTypeRegistry } from '../events/registry.js';
import type { EventStoreDriver } from './driver.js';

/**
 * @internal zod does not parse the driver and the type registry (they are objects with methods),
 * so check them here: a missing one fails at construction, not with a TypeError at the first call.
 */
export function checkStoreParts(driver: unknown, types: unknown): void {
  const issues: ValidationIssue[] = [];
  const d = driver as Partial<EventStoreDriver> | null | undefined;
  if (typeof d !== 'object' || d === null || typeof d.append !== 'function') {
    issues.push({
      path: 'driver',
      message: 'required: an EventStoreDriver, e.g. new MemoryEventStoreDriver()',
    });
  }
  const t = types as Partial<EventTypeRegistry> | null | undefined;
  if (typeof t !== 'object' || t === null || typeof t.parse !== 'function' || typeof t.has !== 'function') {
    issues.push({
      path: 'types',
      message: 'required: the registry returned by defineEventTypes({ type: zodSchema, ... })',
    });
  }
  if (issues.length > 0) {
    throw new ValidationError(
      `invalid EventStore options: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
}
