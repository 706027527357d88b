// The failure-detection chart of report.html, as inline SVG on the same time
// axis as the timeline above it: detection latency per kill/stop (a dot at
// the fault's start, as high as the latency; a cross on top when nobody
// declared the peer gone), and false positives (a bar per declaration of a
// live member, in the strip below). Pure: a ChaosReport in, a string out.
import { formatDuration } from '../orchestrator/duration.ts';
import type { ChaosReport } from './report.ts';
import { escapeHtml } from './report-escape.ts';

/** DESIGN.md §7: a SIGKILLed follower is marked dead by every peer in p50 <= 3 s. */
const TARGET_MS = 3000;
const LEFT = 90;
const WIDTH = 1100;
const TOP = 20;
const LATENCY_H = 130;
const GAP = 28;
const FP_H = 40;

export function detectionChart(report: ChaosReport): string {
  const { detections, falsePositives } = report.detection;
  if (detections.length === 0 && falsePositives.length === 0) {
    return '<p class="meta">No kill or stop faults to detect, and no live member declared dead.</p>';
  }
  const h = report.history;
  const start = h.startedAt;
  const span = Math.max(1, h.endedAt - start);
  const x = (t: number) => LEFT + ((t - start) / span) * (WIDTH - LEFT - 10);
  const worst = Math.max(TARGET_MS, ...detections.map((d) => d.latencyMs ?? 0));
  const yMax = Math.ceil((worst * 1.1) / 1000) * 1000;
  const y = (latency: number) => TOP + LATENCY_H - (latency / yMax) * LATENCY_H;
  const fpTop = TOP + LATENCY_H + GAP;
  const parts: string[] = [
    `<rect x="${LEFT}" y="${TOP}" width="${WIDTH - LEFT - 10}" height="${LATENCY_H}" fill="#f7f7f7"/>`,
    `<rect x="${LEFT}" y="${fpTop}" width="${WIDTH - LEFT - 10}" height="${FP_H}" fill="#f7f7f7"/>`,
    `<text x="${LEFT - 8}" y="${TOP + 12}" text-anchor="end" class="tick">${formatDuration(yMax)}</text>`,
    `<text x="${LEFT - 8}" y="${TOP + LATENCY_H}" text-anchor="end" class="tick">0</text>`,
    `<text x="${LEFT - 8}" y="${TOP + LATENCY_H / 2}" text-anchor="end" class="lane">detection</text>`,
    `<text x="${LEFT - 8}" y="${fpTop + FP_H / 2 + 4}" text-anchor="end" class="lane">false +</text>`,
    `<line x1="${LEFT}" y1="${y(TARGET_MS)}" x2="${WIDTH - 10}" y2="${y(TARGET_MS)}" stroke="#2ca02c" stroke-dasharray="6,4"><title>target: p50 within ${formatDuration(TARGET_MS)} (DESIGN.md §7)</title></line>`,
  ];
  const ticks = Math.min(12, Math.max(2, Math.floor(span / 10_000)));
  for (let k = 0; k <= ticks; k++) {
    const t = start + (span * k) / ticks;
    parts.push(
      `<text x="${x(t)}" y="${fpTop + FP_H + 14}" text-anchor="middle" class="tick">${formatDuration(t - start)}</text>`,
    );
  }
  for (const d of detections) {
    const title = escapeHtml(
      d.latencyMs === null
        ? `#${d.fault} ${d.kind} ${d.member}: nobody declared it gone before it came back`
        : `#${d.fault} ${d.kind} ${d.member}: declared ${d.how} by ${d.by} after ${formatDuration(d.latencyMs)}`,
    );
    parts.push(
      d.latencyMs === null
        ? `<text x="${x(d.start)}" y="${TOP + 10}" text-anchor="middle" fill="#d62728" font-weight="700">&#215;<title>${title}</title></text>`
        : `<circle cx="${x(d.start)}" cy="${y(d.latencyMs)}" r="4" fill="${d.latencyMs > TARGET_MS ? '#d62728' : '#1f77b4'}"><title>${title}</title></circle>`,
    );
  }
  for (const f of falsePositives) {
    parts.push(
      `<rect x="${x(f.t) - 1.5}" y="${fpTop + 4}" width="3" height="${FP_H - 8}" fill="#d62728"><title>${escapeHtml(
        `+${formatDuration(f.t - start)}: ${f.member} (incarnation ${f.incarnation ?? '?'}) declared dead${f.from ? ` by ${f.from}` : ''} while running and reachable; ${f.observers} peer(s) logged it`,
      )}</title></rect>`,
    );
  }
  parts.push(
    `<text x="${WIDTH - 14}" y="${fpTop + 14}" text-anchor="end" class="tick">${falsePositives.length} false positive(s)</text>`,
  );
  const heightPx = fpTop + FP_H + 22;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${heightPx}" width="100%" role="img" aria-label="failure detection">${parts.join('')}</svg>`;
}
