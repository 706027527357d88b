// Process-wide settings, made before any other module of the CLI runs (the
// first import of main.ts, so before the command's modules allocate anything).
//
// No Buffer pool: Node carves small Buffers (Buffer.from, allocUnsafe: under
// 4 KB) out of shared 8 KB slabs, and one small Buffer kept for long keeps its
// whole slab. A peer keeps a few hundred small Buffers for its lifetime (keys,
// signatures, encoded records and certificates, made at different times), so
// most slabs stay resident for a few bytes each: with the pool off an idle
// peer held 58.7 MB instead of 59.8 (the footprint bench, docker mode, 5 peers,
// 3 minutes idle, same run; anonymous memory 16.6 MB instead of 17.7). Each
// small Buffer is then an allocation of its own, which costs nothing a peer,
// the enclave or the CLI would notice at their rates.
Buffer.poolSize = 0;
