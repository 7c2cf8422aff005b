/**
 * Shutting a process down in the reverse order of start, each step at most once, none skipped
 * because an earlier one failed.
 */

/** A stack of shutdown steps. */
export class Shutdown {
  readonly #steps: { name: string; run: () => unknown }[] = [];
  #closing: Promise<string[]> | null = null;

  /** Register a step; steps run last-registered first. */
  add(name: string, run: () => unknown): void {
    this.#steps.push({ name, run });
  }

  /** Run every step; resolves with the errors of the steps that failed (as `name: message`). */
  run(): Promise<string[]> {
    this.#closing ??= (async () => {
      const errors: string[] = [];
      for (const step of this.#steps.reverse()) {
        try {
          await step.run();
        } catch (err) {
          errors.push(`${step.name}: ${(err as Error).message}`);
        }
      }
      return errors;
    })();
    return this.#closing;
  }
}
