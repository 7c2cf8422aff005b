/**
 * A timeout as an abort signal that is certain to fire: a plain timer the caller clears.
 *
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])` is not used anywhere in ctlplane: on Node 20
 * the timeout signal inside `any()` is held only weakly, so a garbage collection before it fires
 * can drop it and the wait never ends (nodejs/node#57736; reproduced with `--expose-gc`).
 *
 * @internal
 * @module
 */

/** @internal A signal aborted after `ms` or with its parent; `clear()` releases both. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Stop the timer and detach from the parent (idempotent); call it once the work is done. */
  clear(): void;
}

/**
 * @internal A signal that aborts with a `TimeoutError` after `ms`, or with `parent`'s reason when
 * it aborts first. The timer is ref'd: it keeps the process alive until it fires or is cleared.
 */
export function deadline(ms: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  const onParent = (): void => controller.abort(parent?.reason);
  const timer = setTimeout(
    () => controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')),
    ms,
  );
  const clear = (): void => {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParent);
  };
  if (parent?.aborted) onParent();
  else parent?.addEventListener('abort', onParent, { once: true });
  controller.signal.addEventListener('abort', clear, { once: true });
  return { signal: controller.signal, clear };
}
