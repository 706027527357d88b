// Datagram and byte counters of one peer, and drops by reason, for /status
// and /metrics.

export class TrafficCounters {
  datagramsIn = 0;
  datagramsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Messages of kinds this version does not know (skipped, datagram kept). */
  unknownMessages = 0;
  readonly dropped = new Map<string, number>();
  /** Well-formed messages that changed nothing, by reason (a full table, a reflection attempt). */
  readonly ignored = new Map<string, number>();
  /** Datagrams this peer chose not to send, by reason (to itself, over a budget). */
  readonly withheld = new Map<string, number>();

  drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  ignore(reason: string): void {
    this.ignored.set(reason, (this.ignored.get(reason) ?? 0) + 1);
  }

  withhold(reason: string): void {
    this.withheld.set(reason, (this.withheld.get(reason) ?? 0) + 1);
  }

  get droppedTotal(): number {
    let total = 0;
    for (const n of this.dropped.values()) total += n;
    return total;
  }

  snapshot() {
    return {
      datagramsIn: this.datagramsIn,
      datagramsOut: this.datagramsOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      unknownMessages: this.unknownMessages,
      dropped: sorted(this.dropped),
      ignored: sorted(this.ignored),
      withheld: sorted(this.withheld),
    };
  }
}

const sorted = (counts: Map<string, number>) =>
  Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));
