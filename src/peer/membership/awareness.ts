// Lifeguard local health awareness: a score that rises when this peer itself
// seems slow (missed nacks, having to refute, and — our addition — its own
// timers firing late: a starved event loop) and falls with each successful
// probe. Probe interval and timeout, the gossip interval and suspicion
// timeouts are multiplied by (score + 1): a peer that cannot keep time
// accuses less, waits longer for refutations, and sends less.

export class Awareness {
  private value = 0;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  get score(): number {
    return this.value;
  }

  apply(delta: number): void {
    this.value = Math.min(this.max - 1, Math.max(0, this.value + delta));
  }
}
