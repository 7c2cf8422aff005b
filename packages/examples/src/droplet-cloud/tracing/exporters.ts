/**
 * Where the example's spans go: a bounded ring in memory (the dashboard's waterfall reads it) and,
 * with `--trace-file`, a JSON-lines file. Both are OpenTelemetry `SpanExporter`s.
 */
import { appendFile } from 'node:fs/promises';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { type SpanRecord, toSpanRecord } from './span-record.js';

type Done = Parameters<SpanExporter['export']>[1];
/** `ExportResultCode.SUCCESS` / `FAILED` of `@opentelemetry/core` (not imported for two numbers). */
const SUCCESS = 0;
const FAILED = 1;

/**
 * The last `capacity` spans of this process, in memory. Bounded, unlike the SDK's
 * `InMemorySpanExporter`: the demo runs for hours.
 */
export class SpanRing implements SpanExporter {
  readonly #capacity: number;
  #spans: SpanRecord[] = [];

  constructor(capacity = 20_000) {
    this.#capacity = capacity;
  }

  export(spans: ReadableSpan[], done: Done): void {
    for (const s of spans) this.#spans.push(toSpanRecord(s));
    // Trim in chunks, not on every span: a quarter of the capacity at a time.
    if (this.#spans.length > this.#capacity * 1.25) this.#spans = this.#spans.slice(-this.#capacity);
    done({ code: SUCCESS });
  }

  /** Spans kept, oldest first. */
  all(): readonly SpanRecord[] {
    return this.#spans;
  }

  async shutdown(): Promise<void> {}
}

/**
 * Appends each batch of spans to a file as JSON lines, in one `write` on a file opened with
 * `O_APPEND`, so several processes can share the file: on a local file system each batch lands
 * whole after the others (lines of one process stay in order; processes interleave by batch).
 */
export class JsonLinesExporter implements SpanExporter {
  readonly #path: string;
  #pending: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.#path = path;
  }

  export(spans: ReadableSpan[], done: Done): void {
    const text = spans.map((s) => `${JSON.stringify(toSpanRecord(s))}\n`).join('');
    const write = appendFile(this.#path, text, { flag: 'a' });
    this.#pending = write.catch(() => {});
    write.then(
      () => done({ code: SUCCESS }),
      (error: Error) => done({ code: FAILED, error }),
    );
  }

  async forceFlush(): Promise<void> {
    await this.#pending;
  }

  async shutdown(): Promise<void> {
    await this.#pending;
  }
}
