/**
 * Print a droplet's trace as a text waterfall from a `--trace-file`, the way the dashboard shows it
 * in one process: `node --import tsx packages/examples/src/droplet-cloud/trace-view.ts <file> [id]`.
 * Without an id, lists the droplets whose create span is in the file.
 */
import { readFileSync } from 'node:fs';
import { CREATE_SPAN, dropletTrace, waterfall } from './tracing/droplet-trace.js';
import { parseSpanLines } from './tracing/span-record.js';
import { textWaterfall } from './tracing/text-waterfall.js';

const [file, id] = process.argv.slice(2);
if (!file || (id !== undefined && !/^\d+$/.test(id))) {
  process.stderr.write('Usage: trace-view.ts <trace file> [droplet id]\n');
  process.exit(2);
}
const { spans, invalid } = parseSpanLines(readFileSync(file, 'utf8'));
if (invalid > 0) process.stderr.write(`trace-view: skipped ${invalid} lines that are not spans\n`);
if (id === undefined) {
  const ids = spans.filter((s) => s.name === CREATE_SPAN).map((s) => s.attributes['ctlplane.event.id']);
  process.stdout.write(`droplets traced in ${file}: ${ids.join(', ') || 'none'}\n`);
  process.exit(0);
}
const t = dropletTrace(spans, Number(id));
if (!t) {
  process.stderr.write(`trace-view: no create span of droplet ${id} in ${file}\n`);
  process.exit(1);
}
process.stdout.write(`${textWaterfall(waterfall(t, Number(id))).join('\n')}\n`);
