// The droplet cloud dashboard: renders the snapshots the example streams over server-sent events.
// Plain DOM and SVG, no framework.

const STATUS_COLOURS = {
  pending: '#f5c542',
  placed: '#3d8bfd',
  claimed: '#8b7bff',
  running: '#2ec4d6',
  done: '#4cd38a',
  failed: '#ff6b6b',
  cancelled: '#8a94ab',
};
const STRATEGY_COLOURS = ['#3d8bfd', '#4cd38a', '#f5c542', '#ff8c42', '#b47bff'];
const mine = new Set();
let regionsFilled = false;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, children = []) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const c of children) node.append(c);
  return node;
};
const utilColour = (u) =>
  `hsl(${Math.round(140 - 140 * Math.min(1, u))} ${u > 0 ? 65 : 20}% ${u > 0 ? 45 : 28}%)`;
const fmt = (n) => Number(n).toLocaleString('en-US');

function renderFleet(regions) {
  const root = $('fleet');
  for (const region of regions) {
    let block = root.querySelector(`[data-region="${region.name}"]`);
    if (!block) {
      block = el('div', { className: 'region' }, [el('h3'), el('div', { className: 'grid' })]);
      block.dataset.region = region.name;
      root.append(block);
    }
    const grid = block.querySelector('.grid');
    const mean = region.cells.reduce((n, c) => n + c.util, 0) / Math.max(1, region.cells.length);
    block.querySelector('h3').textContent =
      `${region.name} · ${region.cells.length} hypervisors · ${Math.round(mean * 100)}% utilised`;
    region.cells.forEach((c, i) => {
      let cell = grid.children[i];
      if (!cell) {
        cell = el('div', { className: 'hv' });
        grid.append(cell);
      }
      cell.dataset.id = c.id;
      cell.dataset.util = String(c.util);
      cell.className = `hv ${c.state}`;
      cell.style.background = utilColour(c.util);
      cell.title = `${c.id}: ${Math.round(c.util * 100)}% · cpu ${c.cpu[0]}/${c.cpu[1]} · memory ${fmt(c.memory[0])}/${fmt(c.memory[1])} MiB`;
    });
  }
}

function lineChart(svg, series, colours) {
  const width = 600;
  const height = 200;
  const points = Math.max(2, ...Object.values(series).map((s) => s.length));
  const max = Math.max(1, ...Object.values(series).flat());
  svg.replaceChildren();
  for (const [name, values] of Object.entries(series)) {
    const path = values
      .map(
        (v, i) =>
          `${((i / (points - 1)) * width).toFixed(1)},${(height - 8 - (v / max) * (height - 16)).toFixed(1)}`,
      )
      .join(' ');
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('points', path);
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', colours[name] ?? '#ccc');
    line.setAttribute('stroke-width', '2');
    line.setAttribute('vector-effect', 'non-scaling-stroke');
    line.dataset.series = name;
    svg.append(line);
  }
}

function renderCounts(snapshot) {
  const series = {};
  for (const status of Object.keys(STATUS_COLOURS))
    series[status] = snapshot.history.map((h) => h.counts[status]);
  lineChart($('status-chart'), series, STATUS_COLOURS);
  $('counts').replaceChildren(
    ...Object.entries(snapshot.counts).map(([status, n]) => {
      const item = el('span', { className: 'count' }, [
        el('span', { className: 'swatch', style: `background:${STATUS_COLOURS[status]}` }),
        `${status} `,
        el('b', { textContent: fmt(n) }),
      ]);
      item.dataset.status = status;
      item.dataset.value = String(n);
      return item;
    }),
  );
}

function renderConnections(c) {
  $('agents').textContent = fmt(c.agents);
  $('routers').textContent = fmt(c.routers);
  $('db').textContent = fmt(c.db);
  $('db-unit').textContent =
    c.dbUnit === 'mysql connections' ? 'database connections' : 'database clients (in memory)';
  lineChart(
    $('conn-chart'),
    { agents: c.history.map((h) => h.agents), db: c.history.map((h) => h.db) },
    { agents: '#3d8bfd', db: '#4cd38a' },
  );
}

function renderExplanation(x) {
  const e = x.explanation;
  const card = el('div', { className: `x ${x.outcome}${mine.has(x.requestId) ? ' mine' : ''}` });
  card.dataset.requestId = x.requestId;
  const where = x.serverId ? `→ ${x.serverId}` : '→ nowhere';
  const latency = x.latencyMs === null ? '' : ` · placed in ${x.latencyMs} ms`;
  card.append(
    el('div', { className: 'head' }, [
      el('b', { textContent: `#${x.requestId} ${x.size ?? ''} ${e.region} ${where}` }),
      el('span', { className: 'muted small', textContent: `${e.feasible}/${e.servers} feasible${latency}` }),
    ]),
    el('div', { className: 'summary', textContent: e.summary }),
  );
  for (const c of e.candidates.slice(0, 3)) {
    const bar = el('div', { className: 'bar' });
    c.strategies.forEach((s, i) => {
      bar.append(
        el('span', {
          title: `${s.name}: ${s.raw.toFixed(1)} × weight ${s.weight}`,
          style: `width:${s.contribution}%;background:${STRATEGY_COLOURS[i % STRATEGY_COLOURS.length]}`,
        }),
      );
    });
    card.append(
      el('div', { className: 'cand' }, [
        el('span', { textContent: c.serverId === x.serverId ? `★ ${c.serverId}` : c.serverId }),
        el('span', { textContent: c.score.toFixed(1) }),
        bar,
      ]),
    );
  }
  const names = e.candidates[0]?.strategies.map((s) => s.name) ?? [];
  card.append(el('div', { className: 'muted small', textContent: names.join(' · ') }));
  return card;
}

const SERVICE_COLOURS = ['#3d8bfd', '#4cd38a', '#f5c542', '#ff8c42', '#b47bff', '#2ec4d6'];
const serviceColours = new Map();
const serviceColour = (service) => {
  if (!serviceColours.has(service))
    serviceColours.set(service, SERVICE_COLOURS[serviceColours.size % SERVICE_COLOURS.length]);
  return serviceColours.get(service);
};
let tracedDroplet = null;

function renderWaterfall(w) {
  const total = Math.max(w.totalMs, 1);
  const pct = (ms) => `${((ms / total) * 100).toFixed(3)}%`;
  // Colour by process when there are several, else (one process) by span name.
  const byService = new Set(w.rows.map((r) => r.service)).size > 1;
  const rows = w.rows.map((r) => {
    const bar = el('div', {
      className: `span-bar ${r.relation} ${r.status}`,
      style: `left:${pct(r.offsetMs)};width:max(2px, ${pct(r.durationMs)});background:${serviceColour(byService ? r.service : r.name)}`,
      title: `${r.name} · ${r.service} (pid ${r.pid}) · +${r.offsetMs.toFixed(1)} ms · ${r.durationMs.toFixed(1)} ms`,
    });
    const marks = r.events.map((e) =>
      el('span', {
        className: 'span-event',
        style: `left:${pct(e.offsetMs)}`,
        title: e.name,
        textContent: '◆',
      }),
    );
    const row = el('div', { className: `span-row ${r.relation}` }, [
      el('div', { className: 'span-label' }, [
        el('span', { className: 'span-name', textContent: r.relation === 'linked' ? `↳ ${r.name}` : r.name }),
        el('span', { className: 'span-service muted small', textContent: `${r.service} · ${r.pid}` }),
      ]),
      el('div', { className: 'span-track' }, [bar, ...marks]),
      el('div', { className: 'span-time muted small', textContent: `${r.durationMs.toFixed(1)} ms` }),
    ]);
    Object.assign(row.dataset, {
      name: r.name,
      service: r.service,
      relation: r.relation,
      offset: String(r.offsetMs),
      events: r.events.map((e) => e.name).join(' '),
    });
    return row;
  });
  $('waterfall').replaceChildren(...rows);
  $('waterfall').dataset.traceId = w.traceId;
  $('trace-status').textContent =
    `droplet #${w.eventId} · trace ${w.traceId.slice(0, 8)}… · ${w.rows.length} spans over ${w.totalMs.toFixed(0)} ms`;
}

async function showTrace(id) {
  tracedDroplet = id;
  $('trace-droplet').value = String(id);
  try {
    const res = await fetch(`/trace.json?droplet=${encodeURIComponent(id)}`);
    const body = await res.json();
    if (tracedDroplet !== id) return;
    if (!res.ok) {
      $('trace-status').textContent = body.error?.message ?? `HTTP ${res.status}`;
      $('waterfall').replaceChildren();
      return;
    }
    renderWaterfall(body);
  } catch (err) {
    $('trace-status').textContent = `failed: ${err.message}`;
  }
}

$('trace-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void showTrace($('trace-droplet').value);
});
$('explanations').addEventListener('click', (event) => {
  const card = event.target.closest('[data-request-id]');
  if (card) void showTrace(card.dataset.requestId);
});

function render(snapshot) {
  $('meta').textContent = `${snapshot.backends} · up ${snapshot.uptimeS}s`;
  $('created').textContent = fmt(snapshot.workload.created);
  $('booted').textContent = fmt(snapshot.workload.booted);
  $('failed').textContent = fmt(snapshot.workload.failed);
  $('p50').textContent =
    snapshot.workload.p50BootMs === null ? '–' : `${(snapshot.workload.p50BootMs / 1000).toFixed(1)}s`;
  if (!regionsFilled) {
    $('create-region').replaceChildren(...snapshot.regions.map((r) => el('option', { textContent: r.name })));
    regionsFilled = true;
  }
  renderFleet(snapshot.regions);
  renderCounts(snapshot);
  renderConnections(snapshot.connections);
  $('explanations').replaceChildren(...snapshot.explanations.map(renderExplanation));
  const result = $('create-result');
  const placed = snapshot.explanations.find((x) => x.requestId === result.dataset.id);
  if (placed) {
    result.textContent =
      placed.outcome === 'placed'
        ? `droplet #${placed.requestId} placed on ${placed.serverId}`
        : `droplet #${placed.requestId} failed: no server fits`;
  }
  // The selected droplet's trace grows while it boots: fetch it again with every snapshot.
  if (tracedDroplet !== null) void showTrace(tracedDroplet);
  document.body.dataset.updated = String(snapshot.at);
}

$('create-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = $('create-result');
  result.textContent = 'creating…';
  try {
    const res = await fetch('/api/droplets', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ region: $('create-region').value, size: $('create-size').value }),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
    mine.add(String(body.droplet.id));
    result.textContent = `droplet #${body.droplet.id} ${body.droplet.status}`;
    result.dataset.id = String(body.droplet.id);
  } catch (err) {
    result.textContent = `failed: ${err.message}`;
  }
});

new EventSource('/events').onmessage = (message) => render(JSON.parse(message.data));
