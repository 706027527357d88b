// What applications see of leadership, from one peer: the leader its held
// certificate names, that certificate's (epoch, seq) and lease end, whether
// this peer acts as leader now, and its fencing token while it does. The leader
// API, the watch stream and --exec all read this one shape.

export interface LeadershipView {
  /** The leader the held certificate names; null: no certificate. */
  leader: { name: string; key: string } | null;
  epoch: number;
  seq: number;
  /** Lease end of the held certificate, ms since the Unix epoch; null: none. */
  leaseEnd: number | null;
  /** True while this peer acts as leader (inside its conservative window). */
  acting: boolean;
  /** This peer's fencing token while it acts as leader, else null. */
  token: string | null;
}

export interface LeadershipSource {
  view(): LeadershipView;
  /** How often this peer has stopped acting as leader, and the last reason (expired, resigned, superseded). */
  releases(): { count: number; reason: string | null };
}

export const NO_LEADERSHIP: LeadershipView = {
  leader: null,
  epoch: 0,
  seq: 0,
  leaseEnd: null,
  acting: false,
  token: null,
};

/** Whether `view` names a leader whose lease has not ended at wall time `now`. */
export function hasLiveLeader(view: LeadershipView, now: number): boolean {
  return view.leader !== null && view.leaseEnd !== null && now < view.leaseEnd;
}
