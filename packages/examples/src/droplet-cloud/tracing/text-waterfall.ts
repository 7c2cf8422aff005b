/**
 * A droplet's waterfall as text, for a terminal: what the dashboard draws, for deployments that
 * have no dashboard (`--role`), from their `--trace-file`.
 */
import type { Waterfall } from './droplet-trace.js';

/** One line per span: offset and duration in ms, a bar on `width` columns, name and process. */
export function textWaterfall(w: Waterfall, width = 40): string[] {
  const total = Math.max(w.totalMs, 1);
  const col = (ms: number) => Math.min(width - 1, Math.floor((ms / total) * width));
  const lines = [
    `droplet ${w.eventId} · trace ${w.traceId} · ${w.rows.length} spans over ${w.totalMs.toFixed(1)} ms`,
  ];
  for (const r of w.rows) {
    const from = col(r.offsetMs);
    const to = Math.max(from + 1, Math.min(width, Math.ceil(((r.offsetMs + r.durationMs) / total) * width)));
    const bar = `${' '.repeat(from)}${(r.relation === 'linked' ? '-' : '#').repeat(to - from)}`.padEnd(width);
    const name = `${r.relation === 'linked' ? '↳ ' : ''}${r.name}`;
    const marks = r.events.length > 0 ? `  ◆ ${r.events.map((e) => e.name).join(', ')}` : '';
    lines.push(
      `${r.offsetMs.toFixed(1).padStart(9)} ${r.durationMs.toFixed(1).padStart(8)} |${bar}| ${name}  ${r.service}[${r.pid}]${marks}`,
    );
  }
  return lines;
}
