#!/bin/sh
# The image's entrypoint: runs the CLI under node with the V8 flags that suit
# the command (measured with `npm run bench -- footprint`).
#
# peer, enclave: --jitless, no JIT compilers at all. They do a few small things a
#   second (the RSA and Ed25519 work is OpenSSL's), so the bytecode interpreter
#   keeps up, and a peer holds about 1.5 MB less (no compiled code, no code space,
#   none of the compilers' pages of the node binary touched) for some 15% more CPU
#   at start-up and idle. Without WebAssembly Node's fetch (undici) does not
#   work, so these commands never use it (a peer reaches the enclave over node:http).
#   --memory-saver-mode (V8 keeps its heap small at some GC cost) and
#   --bytecode-old-age=1 (bytecode of a function not run since the last GC is
#   dropped, compiled again if it runs): a peer's V8 heap 7.6 MB used instead
#   of 11, its RSS about 2.5 MB lower, CPU within noise (the footprint bench,
#   five minutes idle, same run).
# anything else (pki, ledger, healthcheck, token, ...): --no-opt --no-maglev,
#   baseline code but no optimizing compilers, and fetch works (the ledger writer
#   and the healthcheck command use it).
# V8 does not take these flags from NODE_OPTIONS, hence here. exec: node is the
# process docker's init signals.
case "$1" in
  peer | enclave) exec node --jitless --memory-saver-mode --bytecode-old-age=1 /app/src/cli/main.js "$@" ;;
  *) exec node --no-opt --no-maglev /app/src/cli/main.js "$@" ;;
esac
