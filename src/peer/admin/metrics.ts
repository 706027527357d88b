// Prometheus text exposition (format 0.0.4) of a peer's membership and traffic.
import type { MemberState } from '../../protocol/gossip-messages.ts';
import type { MembershipNode } from '../membership-node.ts';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function renderMetrics(node: MembershipNode, ready: boolean): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]) => {
    const full = `enclave_elect_${name}`;
    lines.push(`# HELP ${full} ${help}`, `# TYPE ${full} ${type}`);
    for (const [labels, value] of samples) lines.push(`${full}${labels} ${value}`);
  };
  const c = node.counters;
  const states: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
  for (const m of node.members()) states[m.state]++;
  metric('gossip_datagrams_received_total', 'counter', 'Gossip datagrams received.', [['', c.datagramsIn]]);
  metric('gossip_datagrams_sent_total', 'counter', 'Gossip datagrams sent.', [['', c.datagramsOut]]);
  metric('gossip_bytes_received_total', 'counter', 'Gossip bytes received.', [['', c.bytesIn]]);
  metric('gossip_bytes_sent_total', 'counter', 'Gossip bytes sent.', [['', c.bytesOut]]);
  metric(
    'gossip_datagrams_dropped_total',
    'counter',
    'Gossip datagrams dropped, by reason.',
    [...c.dropped].map(([reason, n]) => [`{reason="${escapeLabel(reason)}"}`, n]),
  );
  metric(
    'gossip_datagrams_withheld_total',
    'counter',
    'Gossip datagrams this peer chose not to send, by reason.',
    [...c.withheld].map(([reason, n]) => [`{reason="${escapeLabel(reason)}"}`, n]),
  );
  metric(
    'gossip_messages_ignored_total',
    'counter',
    'Well-formed gossip messages that changed nothing, by reason (table-full, indirect-target, sync-limit, ...).',
    [...c.ignored].map(([reason, n]) => [`{reason="${escapeLabel(reason)}"}`, n]),
  );
  metric('gossip_unknown_messages_total', 'counter', 'Messages of unknown kinds skipped.', [
    ['', c.unknownMessages],
  ]);
  metric(
    'members',
    'gauge',
    'Members known, by state (this peer included).',
    Object.entries(states).map(([state, n]) => [`{state="${state}"}`, n]),
  );
  metric('incarnation', 'gauge', "This peer's incarnation number.", [['', node.self.incarnation]]);
  metric('awareness_score', 'gauge', 'Lifeguard local health score (0 is healthy).', [
    ['', node.awarenessScore],
  ]);
  metric('ready', 'gauge', '1 when /readyz answers 200.', [['', ready ? 1 : 0]]);
  return `${lines.join('\n')}\n`;
}
