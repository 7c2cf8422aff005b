/**
 * Forcing garbage collection inside a test process, as `node --expose-gc` would allow: some
 * defects (a timeout signal collected before it fires) show only when a collection runs.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A function that runs a full garbage collection now. */
export function gcFunction(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Run a full collection every `everyMs` until the returned function is called. */
export function keepCollecting(everyMs = 20): () => void {
  const gc = gcFunction();
  const timer = setInterval(gc, everyMs);
  return () => clearInterval(timer);
}
