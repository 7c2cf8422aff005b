/**
 * `@ctlplane/adapters/memory`: in-memory backends, the embedded default. No driver needed.
 *
 * @packageDocumentation
 */
export * from './memory-bus.js';
export { MemoryCursorStore } from './memory-cursor-store.js';
export { MemoryEventStoreDriver, type MemoryEventStoreOptions } from './memory-event-store.js';
export * from './memory-fleet.js';
