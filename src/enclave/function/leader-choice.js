// enclave-elect leader-choice function, bundle format v1.
//
// The enclave loads these exact bytes, publishes SHA-256 over them as the
// function checksum in its attestation, and runs them in an isolated V8
// context for every election. The script defines `globalThis.leaderChoice`
// with `choose(input)`, which returns the index of the leader among
// `input.members` (candidate names sorted ascending):
//   policy "highest-id":  the last name (the demo's nodes[-1], over sorted names)
//   policy "round-robin": the first name after `input.previousLeader`, wrapping
//   policy "vrf":         OS2IP(input.vrfOutput) mod n, vrfOutput being the
//                         RFC 9381 RSA-FDH-VRF output (hex) over the election

globalThis.leaderChoice = {
  version: 1,
  choose(input) {
    const members = input.members;
    const n = members.length;
    if (n === 0) throw new Error('no candidates');
    switch (input.policy) {
      case 'highest-id':
        return n - 1;
      case 'round-robin': {
        const previous = input.previousLeader;
        if (typeof previous !== 'string') return 0;
        const next = members.findIndex((name) => name > previous);
        return next === -1 ? 0 : next;
      }
      case 'vrf':
        return Number(BigInt(`0x${input.vrfOutput}`) % BigInt(n));
      default:
        throw new Error(`unknown policy ${input.policy}`);
    }
  },
};
