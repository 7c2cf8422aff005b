/**
 * The optional `@opentelemetry/api`, loaded once, synchronously, and only if it is installed.
 *
 * It is an optional peer dependency: a user who does not trace installs nothing, so a static
 * `import` (which tsup leaves external) would make `@ctlplane/core` fail to load. A dynamic
 * `import()` would be asynchronous, and a span started before it settled would be lost. So the
 * module is `require`d through `createRequire` inside a try/catch: the ESM build resolves it from
 * its own URL, the CommonJS build from its file (tsup's `shims` supply `import.meta.url` there).
 * Whichever build of the API is loaded, it keeps its registrations (tracer provider, context
 * manager, propagator) on one `globalThis` symbol, so an SDK the application registered through
 * its own `import` is the one found here.
 *
 * @internal
 * @module
 */
import { createRequire } from 'node:module';
import type * as Otel from '@opentelemetry/api';

/** @internal The `@opentelemetry/api` module. */
export type OtelApi = typeof Otel;

/** @internal Loads the module, or throws when it is not installed. */
export type OtelLoader = () => unknown;

const defaultLoader: OtelLoader = () => createRequire(import.meta.url)('@opentelemetry/api');

let loaded: OtelApi | null | undefined;

/** True when `m` has the parts of the API ctlplane calls (a broken or foreign module is ignored). */
function isOtelApi(m: unknown): m is OtelApi {
  const api = m as Partial<OtelApi> | null;
  return (
    typeof api === 'object' &&
    api !== null &&
    typeof api.trace?.getTracer === 'function' &&
    typeof api.context?.active === 'function' &&
    typeof api.createTraceState === 'function'
  );
}

/**
 * @internal The API, or null when it is not installed. Loaded on the first call and remembered,
 * so the cost of a missing module (a failed resolution) is paid once per process.
 */
export function otel(): OtelApi | null {
  if (loaded === undefined) loaded = loadOtel(defaultLoader);
  return loaded;
}

/** @internal Load the API with `load`: null when it throws or returns something else. */
export function loadOtel(load: OtelLoader): OtelApi | null {
  try {
    const m = load();
    return isOtelApi(m) ? m : null;
  } catch {
    return null;
  }
}
