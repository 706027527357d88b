#!/usr/bin/env bash
# Create the base image node:24-trixie-slim locally, for Docker hosts that
# cannot pull from an image registry (air-gapped, or behind a proxy that only
# passes package archives). The result stands in for the official image, so the
# project's Dockerfile stays standard: `FROM node:24-trixie-slim` resolves to it.
#
# It is built from Debian 13 "trixie" packages (debootstrap, minbase variant,
# from the mirror apt already uses) plus the Node 24 binary and npm of this
# machine, with the user `node` (uid/gid 1000) like the official image.
#
# Usage: deploy/offline/build-base-image.sh [--if-missing] [--tag TAG] [--node PATH]
#   --if-missing   do nothing when TAG already exists
#   --tag TAG      image name (default node:24-trixie-slim)
#   --node PATH    Node 24 binary to install (default: the first node 24 found)
# Needs root (debootstrap) and a running Docker engine.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib/common.sh
. "${here}/../../scripts/lib/common.sh"

tag=node:24-trixie-slim
if_missing=0
node_bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --if-missing) if_missing=1 ;;
    --tag) tag=${2:?--tag needs a value}; shift ;;
    --node) node_bin=${2:?--node needs a path}; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "${if_missing}" = 1 ] && docker image inspect "${tag}" >/dev/null 2>&1; then
  echo "${tag} already present ($(docker image inspect -f '{{.Size}}' "${tag}" | awk '{printf "%.0f MB", $1/1e6}'))" >&2
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "error: run as root (debootstrap needs it)" >&2; exit 1; }

find_node24() {
  local c
  for c in "${node_bin}" "$(command -v node || true)" "${ENCLAVE_ELECT_NODE_HOME:-/opt/enclave-elect/node24}/bin/node"; do
    [ -n "${c}" ] && [ -x "${c}" ] || continue
    if [ "$("${c}" -p 'process.versions.node.split(".")[0]')" = 24 ]; then echo "${c}"; return 0; fi
  done
  echo "error: no Node 24 binary found; run scripts/provision-ci.sh --node-only or pass --node PATH" >&2
  return 1
}
node_bin=$(find_node24)
npm_cli=$(readlink -f "$(command -v npm)")           # .../node_modules/npm/bin/npm-cli.js
npm_dir=$(cd "$(dirname "${npm_cli}")/.." && pwd)
[ -f "${npm_dir}/package.json" ] || { echo "error: cannot locate npm's folder (from ${npm_cli})" >&2; exit 1; }

apt_install debootstrap
mirror=$(debian_mirror)
rootfs=$(mktemp -d /tmp/enclave-elect-rootfs.XXXXXX)
trap 'rm -rf "${rootfs}"' EXIT

echo "debootstrap trixie (minbase) into ${rootfs} ..." >&2
debootstrap --variant=minbase trixie "${rootfs}" "${mirror}" >"${rootfs}.log" 2>&1 || {
  echo "error: debootstrap failed; last lines:" >&2; tail -n 20 "${rootfs}.log" >&2; exit 1; }
rm -f "${rootfs}.log"

echo "adding node $("${node_bin}" --version), npm $(node "${npm_cli}" --version 2>/dev/null || echo '?'), user node ..." >&2
install -m 0755 "${node_bin}" "${rootfs}/usr/local/bin/node"
mkdir -p "${rootfs}/usr/local/lib/node_modules"
cp -a "${npm_dir}" "${rootfs}/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "${rootfs}/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "${rootfs}/usr/local/bin/npx"
chroot "${rootfs}" groupadd --gid 1000 node
chroot "${rootfs}" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

env_args=(-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
          -c "ENV NODE_VERSION=$("${node_bin}" -p process.versions.node)")
# Egress here may pass through a TLS-intercepting proxy: carry this host's CA
# bundle so `npm ci` inside `docker build` trusts it.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "${rootfs}/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "${rootfs}/etc/ssl/certs/ca-certificates.crt"
  env_args+=(-c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt')
fi

# Slim it down like the official -slim images: no docs, man pages, apt caches.
rm -rf "${rootfs}"/usr/share/doc/* "${rootfs}"/usr/share/man/* "${rootfs}"/usr/share/info/* \
  "${rootfs}"/var/lib/apt/lists/* "${rootfs}"/var/cache/apt/*.bin "${rootfs}"/var/cache/apt/archives/*.deb \
  "${rootfs}"/usr/share/locale/* "${rootfs}"/usr/share/i18n/* "${rootfs}"/var/cache/debconf/*-old \
  "${rootfs}"/var/log/*.log "${rootfs}"/usr/local/lib/node_modules/npm/docs "${rootfs}"/usr/local/lib/node_modules/npm/man

echo "importing as ${tag} ..." >&2
tar -C "${rootfs}" -c . | docker import "${env_args[@]}" \
  -c 'LABEL org.opencontainers.image.description="node:24-trixie-slim built locally by enclave-elect deploy/offline"' \
  -c 'CMD ["node"]' - "${tag}" >/dev/null
echo "${tag} created ($(docker image inspect -f '{{.Size}}' "${tag}" | awk '{printf "%.0f MB", $1/1e6}'))" >&2
