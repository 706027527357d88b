#!/bin/sh
# net-fault: the fault helper's entry point, run in a target container's network
# namespace. Everything it adds lives in its own iptables chains ($CHAIN from
# OUTPUT, $CHAIN-IN from INPUT; CHAIN is EE_NETFAULT for shaping, EE_CUT for the
# link cuts of one-way, ring and bridge partitions, so both can be in place at
# once) and the root qdisc of each interface. `clear` removes everything of
# ours, whichever helper added it, and `show` proves nothing is left.
#
#   net-fault apply [--loss P] [--loss-burst p,r,1-h,1-k] [--delay MS] [--jitter MS]
#                   [--duplicate P] [--corrupt P] [--reorder P] [--rate RATE]
#                   [--drop-from IP,IP] [--drop-to IP,IP] [--seed S]
#       Applies the faults (percentages as plain numbers) and stays in the
#       foreground; SIGTERM (docker stop) removes them again.
#   net-fault clear     Removes anything a helper left behind (one killed by SIGKILL).
#   net-fault show      Prints what is left (exit 0 when nothing, 3 otherwise).
#   (With NET_FAULT_CHAIN set, clear and show act on that chain only, and on the
#   qdiscs unless it is EE_CUT.)
#   net-fault probe     Prints which way delay and friends would be applied: netem or nfqueue.
set -u

CHAIN=${NET_FAULT_CHAIN:-EE_NETFAULT}
# clear and show act on every chain of ours, or only on NET_FAULT_CHAIN when it is set.
ALL_CHAINS=${NET_FAULT_CHAIN:-EE_NETFAULT EE_CUT}
QUEUE=0
MARK=0x5ee

interfaces() {
  for path in /sys/class/net/*; do
    name=${path##*/}
    [ "$name" = lo ] || echo "$name"
  done
}

# netem where the kernel has it (the standard tool); else the NFQUEUE shaper.
netem_available() {
  dev=$(interfaces | head -n 1)
  [ -n "$dev" ] || return 1
  tc qdisc add dev "$dev" root netem delay 0ms 2>/dev/null || return 1
  tc qdisc del dev "$dev" root 2>/dev/null
  return 0
}

# Remove one chain pair and every jump to it, whatever the jump's match.
clear_chain() {
  for builtin in OUTPUT INPUT; do
    iptables -w -S "$builtin" | grep -E -- "-j $1(-IN)?\$" | while read -r _ rule; do
      # shellcheck disable=SC2086 # the rule is a word list on purpose
      iptables -w -D $rule
    done
  done
  for chain in "$1" "$1-IN"; do
    iptables -w -F "$chain" 2>/dev/null
    iptables -w -X "$chain" 2>/dev/null
  done
}

clear_qdiscs() {
  for dev in $(interfaces); do
    # Only our kinds: the default qdisc (noqueue) is not ours to delete.
    if tc qdisc show dev "$dev" root | grep -Eq '^qdisc (netem|tbf) '; then
      tc qdisc del dev "$dev" root 2>/dev/null
    fi
  done
}

# What this helper added: its own chains, and the qdiscs when it shapes.
clear_own() {
  clear_chain "$CHAIN"
  [ "$CHAIN" = EE_CUT ] || clear_qdiscs
}

clear_all() {
  for chain in $ALL_CHAINS; do clear_chain "$chain"; done
  [ "$ALL_CHAINS" = EE_CUT ] || clear_qdiscs
}

show_left() {
  left=0
  for base in $ALL_CHAINS; do
    for chain in "$base" "$base-IN"; do
      if iptables -w -S "$chain" >/dev/null 2>&1; then
        echo "iptables chain $chain"
        left=1
      fi
    done
    if iptables -w -S | grep -q -- "-j $base"; then
      echo "iptables jump to $base"
      left=1
    fi
  done
  [ "$ALL_CHAINS" = EE_CUT ] || for dev in $(interfaces); do
    line=$(tc qdisc show dev "$dev" root | grep -E '^qdisc (netem|tbf) ')
    if [ -n "$line" ]; then
      echo "qdisc on $dev: $line"
      left=1
    fi
  done
  [ "$left" = 0 ] && echo "clean"
  return $((left * 3))
}

percent_to_probability() {
  # iptables statistic takes 0..1.
  awk -v p="$1" 'BEGIN { printf "%.6f", p / 100 }'
}

ips() {
  echo "$1" | tr ',' ' '
}

apply() {
  loss='' burst='' delay=0 jitter=0 duplicate=0 corrupt=0 reorder=0 rate='' seed=net-fault drop_from='' drop_to=''
  while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || { echo "net-fault: $1 needs a value" >&2; exit 2; }
    case "$1" in
      --loss) loss=$2 ;;
      --loss-burst) burst=$2 ;;
      --delay) delay=$2 ;;
      --jitter) jitter=$2 ;;
      --duplicate) duplicate=$2 ;;
      --corrupt) corrupt=$2 ;;
      --reorder) reorder=$2 ;;
      --rate) rate=$2 ;;
      --seed) seed=$2 ;;
      --drop-from) drop_from=$2 ;;
      --drop-to) drop_to=$2 ;;
      *) echo "net-fault: unknown option $1" >&2; exit 2 ;;
    esac
    shift 2
  done
  clear_own
  iptables -w -N "$CHAIN" || exit 1
  iptables -w -N "$CHAIN-IN" || exit 1
  iptables -w -A OUTPUT ! -o lo -j "$CHAIN" || exit 1
  iptables -w -A INPUT ! -i lo -j "$CHAIN-IN" || exit 1
  # One-way cuts: this namespace does not hear (INPUT) or is not heard by (OUTPUT) these addresses.
  for ip in $(ips "$drop_from"); do iptables -w -A "$CHAIN-IN" -s "$ip" -j DROP || exit 1; done
  for ip in $(ips "$drop_to"); do iptables -w -A "$CHAIN" -d "$ip" -j DROP || exit 1; done
  # The shaper's own duplicates carry MARK and pass untouched.
  iptables -w -A "$CHAIN" -m mark --mark "$MARK" -j RETURN || exit 1
  if [ -n "$loss" ]; then
    iptables -w -A "$CHAIN" -m statistic --mode random --probability "$(percent_to_probability "$loss")" -j DROP || exit 1
  fi
  shaped=0
  for value in "$delay" "$jitter" "$duplicate" "$corrupt" "$reorder"; do
    [ "$value" = 0 ] || shaped=1
  done
  [ -n "$burst" ] && shaped=1
  mode=none
  if [ "$shaped" = 1 ] && netem_available; then
    mode=netem
    args="delay ${delay}ms"
    [ "$jitter" = 0 ] || args="$args ${jitter}ms"
    [ -n "$burst" ] && args="$args loss gemodel $(echo "$burst" | tr ',' ' ')"
    [ "$duplicate" = 0 ] || args="$args duplicate ${duplicate}%"
    [ "$corrupt" = 0 ] || args="$args corrupt ${corrupt}%"
    [ "$reorder" = 0 ] || args="$args reorder ${reorder}%"
    [ -n "$rate" ] && args="$args rate $rate"
    for dev in $(interfaces); do
      # shellcheck disable=SC2086 # args is a word list on purpose
      tc qdisc add dev "$dev" root netem $args || exit 1
    done
  elif [ "$shaped" = 1 ]; then
    mode=nfqueue
    # --queue-bypass: if the shaper is gone, packets pass instead of being dropped.
    iptables -w -A "$CHAIN" -j NFQUEUE --queue-num "$QUEUE" --queue-bypass || exit 1
  fi
  if [ -n "$rate" ] && [ "$mode" != netem ]; then
    for dev in $(interfaces); do
      tc qdisc add dev "$dev" root tbf rate "$rate" burst 32kbit latency 400ms || exit 1
    done
  fi
  echo "net-fault: applied (shaping: $mode)" >&2
  stop() {
    [ -n "${shaper:-}" ] && kill -TERM "$shaper" 2>/dev/null && wait "$shaper"
    clear_own
    echo "net-fault: cleared" >&2
    exit 0
  }
  trap stop TERM INT
  if [ "$mode" = nfqueue ]; then
    set -- --queue "$QUEUE" --delay-ms "$delay" --jitter-ms "$jitter" --duplicate "$duplicate" \
      --corrupt "$corrupt" --reorder "$reorder" --seed "$seed"
    [ -n "$burst" ] && set -- "$@" --loss-burst "$burst"
    /usr/local/bin/nfq-shaper "$@" &
    shaper=$!
    # Ready only once the shaper holds the queue: before that, --queue-bypass lets packets through unshaped.
    tries=0
    until grep -Eq "^ *$QUEUE " /proc/net/netfilter/nfnetlink_queue 2>/dev/null; do
      tries=$((tries + 1))
      if [ "$tries" -gt 50 ] || ! kill -0 "$shaper" 2>/dev/null; then
        echo "net-fault: the shaper did not bind queue $QUEUE" >&2
        clear_own
        exit 1
      fi
      sleep 0.1
    done
  fi
  echo "net-fault: ready (shaping: $mode)" >&2
  # Poll on a background sleep so the TERM trap runs at once. The helper ends by
  # itself when its shaper dies (its faults went with it) or when the target is
  # gone: a stopped or restarted target leaves this namespace with no interface.
  while :; do
    sleep 1 &
    wait $!
    if [ -n "${shaper:-}" ] && ! kill -0 "$shaper" 2>/dev/null; then
      echo "net-fault: the shaper exited; clearing" >&2
      clear_own
      exit 1
    fi
    if [ -z "$(interfaces)" ]; then
      echo "net-fault: the target's network is gone; exiting" >&2
      exit 0
    fi
  done
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  apply) apply "$@" ;;
  clear) clear_all; show_left ;;
  show) show_left ;;
  probe) if netem_available; then echo netem; else echo nfqueue; fi ;;
  *) echo "usage: net-fault apply|clear|show|probe [options]" >&2; exit 2 ;;
esac
