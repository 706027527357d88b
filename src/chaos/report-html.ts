// report.html: one self-contained page (inline CSS and SVG, no scripts, no
// external assets) that a newcomer reads at a glance: the verdict first, then
// the numbers, then a timeline with one lane per peer (who led when, which
// faults hit whom), then the details. Pure: a ChaosReport in, a string out.
import { formatDuration } from '../orchestrator/duration.ts';
import type { ChaosReport } from './report.ts';
import { detectionChart } from './report-detection-chart.ts';
import { escapeHtml } from './report-escape.ts';

const COLOURS: Record<string, string> = {
  kill: '#d62728',
  stop: '#ff7f0e',
  pause: '#9467bd',
  partition: '#1f77b4',
  'enclave-restart': '#8c564b',
  restart: '#e377c2',
  delay: '#17becf',
  loss: '#bcbd22',
  duplicate: '#7f7f7f',
  corrupt: '#393b79',
  'one-way': '#637939',
  ring: '#8c6d31',
  bridge: '#843c39',
  cpu: '#e7ba52',
  clock: '#ad494a',
  'host-cpu': '#a55194',
};
const LEADER = '#2ca02c';

export { escapeHtml };

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : formatDuration(v));

function timeline(report: ChaosReport): string {
  const h = report.history;
  const lanes = [...(h.peers ?? [...new Set(h.events.map((e) => e.peer))].sort()), 'enclave'];
  const start = h.startedAt;
  const span = Math.max(1, h.endedAt - start);
  const left = 90;
  const width = 1100;
  const laneH = 26;
  const top = 24;
  const x = (t: number) => left + ((t - start) / span) * (width - left - 10);
  const y = (lane: string) => top + lanes.indexOf(lane) * laneH;
  const parts: string[] = [];
  lanes.forEach((lane, i) => {
    const yy = top + i * laneH;
    parts.push(
      `<rect x="${left}" y="${yy}" width="${width - left - 10}" height="${laneH - 4}" fill="${i % 2 ? '#f7f7f7' : '#efefef'}"/>`,
      `<text x="${left - 8}" y="${yy + 16}" text-anchor="end" class="lane">${escapeHtml(lane)}</text>`,
    );
  });
  const ticks = Math.min(12, Math.max(2, Math.floor(span / 10_000)));
  for (let k = 0; k <= ticks; k++) {
    const t = start + (span * k) / ticks;
    const xx = x(t);
    parts.push(
      `<line x1="${xx}" y1="${top - 4}" x2="${xx}" y2="${top + lanes.length * laneH}" stroke="#ccc" stroke-dasharray="2,3"/>`,
      `<text x="${xx}" y="${top - 8}" text-anchor="middle" class="tick">${formatDuration(t - start)}</text>`,
    );
  }
  for (const f of report.faults) {
    const from = Date.parse(f.start);
    const to = f.heal === null ? h.endedAt : Date.parse(f.heal);
    const hit = f.kind === 'enclave-restart' ? ['enclave'] : f.peers;
    for (const lane of hit) {
      if (!lanes.includes(lane)) continue;
      const w = Math.max(3, x(to) - x(from));
      parts.push(
        `<rect x="${x(from)}" y="${y(lane) + 1}" width="${w}" height="${laneH - 6}" fill="${COLOURS[f.kind] ?? '#777'}" opacity="0.35" stroke="${COLOURS[f.kind] ?? '#777'}"><title>${escapeHtml(`#${f.index} ${f.kind} ${f.peers.join(', ')}: ${f.note} (held ${ms(f.heldMs)}, agreement ${ms(f.agreementMs)} after heal)`)}</title></rect>`,
      );
    }
  }
  for (const i of report.leaderIntervals) {
    if (!lanes.includes(i.peer)) continue;
    parts.push(
      `<rect x="${x(Math.max(i.from, start))}" y="${y(i.peer) + 8}" width="${Math.max(2, x(i.to) - x(Math.max(i.from, start)))}" height="${laneH - 20}" fill="${LEADER}"><title>${escapeHtml(`${i.peer} leader, epoch ${i.epoch}: ${formatDuration(i.to - i.from)}, ended ${i.end}`)}</title></rect>`,
    );
  }
  const overlaps = report.verdicts.find((v) => v.name === 'no overlapping leaders');
  for (const o of (overlaps?.offending ?? []) as { b: { from: number }; overlapMs: number }[]) {
    parts.push(
      `<rect x="${x(o.b.from)}" y="${top}" width="${Math.max(3, x(o.b.from + o.overlapMs) - x(o.b.from))}" height="${lanes.length * laneH}" fill="none" stroke="#000" stroke-width="2"><title>two leaders at once for ${o.overlapMs} ms</title></rect>`,
    );
  }
  const heightPx = top + lanes.length * laneH + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${heightPx}" width="100%" role="img" aria-label="timeline">${parts.join('')}</svg>`;
}

/** One sentence per offending item, times relative to the run's start. */
export function describeOffending(verdict: string, item: unknown, start: number): string {
  const at = (t: number) => `+${formatDuration(t - start)}`;
  const o = item as Record<string, unknown>;
  if (verdict === 'no overlapping leaders' && o.a && o.b) {
    const a = o.a as { peer: string; epoch: number; from: number; to: number; end: string };
    const b = o.b as { peer: string; epoch: number; from: number; to: number; end: string };
    return `${a.peer} acted as leader of epoch ${a.epoch} from ${at(a.from)} until ${at(a.to)} (${a.end}), while ${b.peer} acted as leader of epoch ${b.epoch} from ${at(b.from)}: ${o.overlapMs} ms with two leaders.`;
  }
  if (verdict.startsWith('agreement') && typeof o.heal === 'number') {
    return o.tookMs === null
      ? `after the heal at ${at(o.heal)} the live peers never all agreed.`
      : `after the heal at ${at(o.heal)} the live peers agreed only after ${formatDuration(o.tookMs as number)} (seen by status ${formatDuration((o.observedMs as number | null) ?? (o.tookMs as number))} after it).`;
  }
  if (verdict === 'no stale append accepted' && typeof o.why === 'string' && o.append) {
    const a = o.append as { t: number; leader?: string; epoch?: number; seq?: number };
    return `the ledger accepted ${a.leader}'s append (epoch ${a.epoch}, seq ${a.seq}) at ${at(a.t)}: ${o.why}.`;
  }
  if (verdict === 'one leader per epoch' && Array.isArray(o.leaders)) {
    return `epoch ${o.epoch} was certified for ${o.leaders.join(' and ')}.`;
  }
  if (typeof o.t === 'number' && typeof o.name === 'string') {
    return `${o.name} exited with code ${o.exitCode ?? '?'} at ${at(o.t)} with no fault on it.`;
  }
  if (typeof o.t === 'number' && typeof o.event === 'string') {
    return `${o.peer} logged ${o.event} (${o.reason ?? ''}${o.error ? `: ${o.error}` : ''}) at ${at(o.t)}.`;
  }
  return JSON.stringify(item);
}

function legend(): string {
  const item = (colour: string, label: string, opacity = 0.35) =>
    `<span class="key"><svg width="22" height="12"><rect width="22" height="12" fill="${colour}" opacity="${opacity}"/></svg>${label}</span>`;
  return [item(LEADER, 'acting as leader', 1), ...Object.entries(COLOURS).map(([k, c]) => item(c, k))].join(
    ' ',
  );
}

function card(label: string, value: string, sub = ''): string {
  return `<div class="card"><div class="value">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div>${sub ? `<div class="sub">${escapeHtml(sub)}</div>` : ''}</div>`;
}

export function renderReportHtml(report: ChaosReport): string {
  const s = report.summary;
  const verdictRows = report.verdicts
    .map(
      (v) =>
        `<tr class="${v.ok ? 'pass' : 'fail'}"><td>${v.ok ? 'PASS' : 'FAIL'}</td><td>${escapeHtml(v.name)}</td><td>${escapeHtml(v.summary)}</td></tr>`,
    )
    .join('');
  const offending = report.verdicts
    .filter((v) => !v.ok)
    .map(
      (v) =>
        `<h3>${escapeHtml(v.name)}</h3><ul>${v.offending
          .slice(0, 20)
          .map((o) => `<li>${escapeHtml(describeOffending(v.name, o, report.history.startedAt))}</li>`)
          .join(
            '',
          )}</ul><details><summary>raw events</summary><pre>${escapeHtml(JSON.stringify(v.offending.slice(0, 20), null, 2))}</pre></details>`,
    )
    .join('');
  const faultRows = report.faults
    .map(
      (f) =>
        `<tr><td>${f.index}</td><td><span class="dot" style="background:${COLOURS[f.kind] ?? '#777'}"></span>${escapeHtml(f.kind)}</td><td>${escapeHtml(f.peers.join(', '))}${f.leaderAtStart && f.peers.includes(f.leaderAtStart) ? ' <b>(leader)</b>' : ''}</td><td>${formatDuration(Date.parse(f.start) - report.history.startedAt)}</td><td>${ms(f.heldMs)}</td><td>${ms(f.agreementMs)}${f.bootMs ? ` <span class="meta">(process up after ${ms(f.bootMs)})</span>` : ''}</td><td>${escapeHtml(f.note)}</td></tr>`,
    )
    .join('');
  const failoverRows = report.failovers
    .map(
      (f) =>
        `<tr><td>${f.fault}</td><td>${escapeHtml(f.kind)}</td><td>${escapeHtml(f.from)} &rarr; ${escapeHtml(f.to ?? '?')}</td><td>${ms(f.tookMs)}</td></tr>`,
    )
    .join('');
  const kinds = Object.entries(s.faultsByKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const duration = Date.parse(report.endedAt) - Date.parse(report.startedAt);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chaos report ${escapeHtml(report.seed)}: ${report.ok ? 'all invariants hold' : 'INVARIANT VIOLATED'}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1180px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}.meta{color:#666}
.banner{padding:14px 18px;border-radius:8px;font-size:18px;font-weight:600;margin:16px 0}
.banner.ok{background:#e6f4ea;color:#1e7b34;border:1px solid #a8d5b5}.banner.bad{background:#fde8e8;color:#a61b1b;border:1px solid #f1a9a9}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:8px;padding:10px 14px;min-width:130px}
.value{font-size:22px;font-weight:600}.label{color:#555}.sub{color:#888;font-size:12px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:4px 8px;text-align:left;vertical-align:top}
tr.pass td:first-child{color:#1e7b34;font-weight:700}tr.fail td:first-child{color:#a61b1b;font-weight:700}
.lane{font-size:12px}.tick{font-size:10px;fill:#777}.key{margin-right:14px;white-space:nowrap}.key svg{vertical-align:middle;margin-right:4px}
.dot{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:6px}pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:300px}
</style></head><body>
<h1>Chaos run, seed ${escapeHtml(report.seed)}</h1>
<div class="meta">cluster ${escapeHtml(report.cluster)} &middot; ${report.options.peers} peers &middot; lease ${report.options.leaseMs} ms &middot; ${escapeHtml(report.startedAt)} for ${formatDuration(duration)} &middot; enclave-elect ${escapeHtml(report.version)}, node ${escapeHtml(report.node)}</div>
<div class="banner ${report.ok ? 'ok' : 'bad'}">${
    report.ok
      ? `All ${report.verdicts.length} invariants hold over ${s.faultsInjected} injected faults.`
      : `INVARIANT VIOLATED: ${escapeHtml(
          report.verdicts
            .filter((v) => !v.ok)
            .map((v) => v.name)
            .join('; '),
        )}. Replay with --seed ${escapeHtml(report.seed)}.`
  }</div>
<div class="cards">
${card('faults injected', String(s.faultsInjected), kinds)}
${card('failovers', String(s.failovers.count), s.failovers.incomplete ? `${s.failovers.incomplete} not completed before heal` : 'leader taken away, all survivors agreed on a new one')}
${card('failover p50', ms(s.failovers.p50Ms), 'fault start to last survivor agreeing')}
${card('failover p99', ms(s.failovers.p99Ms), `max ${ms(s.failovers.maxMs)}`)}
${card('leader intervals', String(s.leaderIntervals), `${s.events} log events recorded`)}
${card('detection p50', ms(s.detection.p50Ms), `kill/stop to first member.dead; max ${ms(s.detection.maxMs)}${s.detection.undetected ? `, ${s.detection.undetected} undetected` : ''}`)}
${card('false positives', String(s.detection.falsePositives), 'live, reachable members declared dead')}
</div>
<h2>Timeline</h2>
<p class="meta">One lane per peer. Green bars: the peer was acting as leader (from its own leader.acquired / leader.released log events); bars of two peers must never overlap in time (a black frame marks any overlap). Shaded boxes: faults, from injection to heal. Hover for details.</p>
<div>${legend()}</div>
${timeline(report)}
<h2>Failure detection</h2>
<p class="meta">Same time axis. Dots: for each kill or stop, how long until the first peer declared the peer gone (member.dead, or member.left after a graceful stop); red above the dashed ${formatDuration(3000)} target, a cross when nobody did before it came back. Red bars: false positives, a member declared dead while its process ran and no kill, stop, pause, restart or partition cut it (or its declarer) off; one bar per declaration however many peers logged it. Hover for details.</p>
${detectionChart(report)}
<h2>Invariants</h2>
<table><tr><th></th><th>invariant</th><th>result</th></tr>${verdictRows}</table>
${offending ? `<h2>Offending events</h2>${offending}` : ''}
<h2>Faults</h2>
<table><tr><th>#</th><th>kind</th><th>target</th><th>at</th><th>held</th><th>agreement after heal</th><th>how</th></tr>${faultRows}</table>
<h2>Failovers</h2>
${report.failovers.length ? `<table><tr><th>fault</th><th>kind</th><th>leader</th><th>time until all survivors agreed</th></tr>${failoverRows}</table>` : '<p>No fault took the leader away.</p>'}
<h2>Replay</h2>
<pre>enclave-elect cluster chaos --seed ${escapeHtml(report.seed)} --duration ${Math.round(report.options.durationMs / 1000)}s --interval ${Math.round(report.options.intervalMs / 100) / 10}s --faults ${escapeHtml(report.options.faults.join(','))} --peers ${report.options.peers}
enclave-elect cluster chaos --check report.json   # re-check this history</pre>
</body></html>
`;
}
