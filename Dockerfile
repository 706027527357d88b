# enclave-elect container image: one binary (`enclave-elect`) that runs as a
# gossip peer, the mock enclave, or the PKI tool, chosen by the command.
#
# The base image is the official node:24-trixie-slim; on hosts that cannot pull
# from a registry, deploy/offline/build-base-image.sh creates it locally under
# the same name. Development runs the TypeScript directly (Node 24 type
# stripping); the image runs it compiled to JavaScript by tsc, with the same
# layout under /app/src: type stripping costs every process about 18 MB of RSS.

ARG NODE_IMAGE=node:24-trixie-slim

# ---- stage 1: production dependencies, installed from the lockfile ----------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs an install script at run time (ssh2's
# optional native speed-ups are skipped; it falls back to pure JS).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf /root/.npm

# ---- stage 2: compile src/**/*.ts to .js (tsc, a dev dependency) ------------
FROM ${NODE_IMAGE} AS compile
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && rm -rf /root/.npm
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Every non-TypeScript file under src/ is copied as is: the function bundle
# must keep its exact bytes (its SHA-256 is the checksum peers pin).
RUN npx tsc -p tsconfig.build.json \
 && cd src && find . -type f ! -name '*.ts' -exec cp --parents {} /app/build/src/ \; \
 && cmp /app/src/enclave/function/leader-choice.js /app/build/src/enclave/function/leader-choice.js

# ---- stage 3: runtime ---------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="enclave-elect" \
      org.opencontainers.image.description="Leader election for a cluster of containers: SWIM gossip over UDP and an attested (mock) enclave that signs the leader" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="node:24-trixie-slim"
ENV NODE_ENV=production
# A 1 MB young generation instead of the default 16 MB (x3 with the copy
# spaces): peers allocate little, and this saves about 10 MB of RSS each
# (measured with `npm run bench -- footprint`).
ENV NODE_OPTIONS=--max-semi-space-size=1
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
# The compiled .js beside the .ts sources: processes run the .js; the sources
# stay for reading and for test helpers that import them (type stripping).
COPY src ./src
COPY --from=compile /app/build/src ./src
# Record the checksum of the built-in leader-choice function at build time:
# peers of this image pin it with no configuration (an explicit pin wins).
RUN node /app/src/cli/main.js enclave checksum > /app/FUNCTION_CHECKSUM \
 && grep -Eq '^[0-9a-f]{64}$' /app/FUNCTION_CHECKSUM
# Mount points owned by `node`, so named volumes mounted there start writable
# by the non-root user even on a read-only root filesystem: /pki (attestation
# keys, enclave side only), /trust (the published root certificate peers pin),
# /state (the enclave's sealed epoch state), /join (the cluster join secret,
# enclave and peers only).
RUN chmod +x /app/src/cli/main.js /app/src/cli/node-entrypoint.sh \
 && ln -s /app/src/cli/main.js /usr/local/bin/enclave-elect \
 && mkdir -p /pki /trust /state /join \
 && chown node:node /pki /trust /state /join
USER node
# 7946/udp: gossip; 7947/tcp: peer admin HTTP (status, metrics, health).
EXPOSE 7946/udp 7947/tcp
HEALTHCHECK --interval=5s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/src/peer/admin/healthcheck.js"]
# node's V8 flags depend on the command (src/cli/node-entrypoint.sh): --jitless
# for peer and enclave (no JIT, no code space, no compiler pages touched), and
# --no-opt --no-maglev for the rest, which may use fetch (undici needs
# WebAssembly, which --jitless turns off). V8 does not accept these flags in
# NODE_OPTIONS, hence an entrypoint script.
ENTRYPOINT ["/app/src/cli/node-entrypoint.sh"]
CMD ["--help"]
