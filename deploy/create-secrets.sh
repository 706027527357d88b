#!/usr/bin/env bash
# Hand the mock attestation PKI to a swarm or a Kubernetes namespace: the enclave's
# keys as secrets only the enclave mounts, the root certificate peers pin as a
# config (swarm) or ConfigMap (Kubernetes), since it is public. Run once, before
# `docker stack deploy -c deploy/swarm/stack.yml` or `kubectl apply -f deploy/kubernetes/`.
#
#   deploy/create-secrets.sh swarm      [--pki DIR] [--image IMAGE]
#   deploy/create-secrets.sh kubernetes [--pki DIR] [--image IMAGE] [--namespace NS]
#
# With no --pki, a fresh PKI is made by the image's own `pki init` in a temporary
# directory removed afterwards: the private keys then live only in the platform's
# secret store. With --pki DIR, an existing PKI (`enclave-elect pki init --out DIR`)
# is used, e.g. to keep the root that running peers pin.
#
# Object names match deploy/swarm/stack.yml and deploy/kubernetes/*.yaml. The cluster
# join secret (join.key, `pki init --join DIR`) goes to the enclave and the peers
# (docs/security.md).
set -euo pipefail

usage() { sed -n '2,16p' "$0"; }
target="${1:-}"
case "$target" in
  swarm|kubernetes) shift ;;
  -h|--help) usage; exit 0 ;;
  *) echo "create-secrets.sh: say where to: swarm or kubernetes (see --help)" >&2; exit 2 ;;
esac
image="${ENCLAVE_ELECT_IMAGE:-enclave-elect:local}"
pki_dir=""
namespace=()
while [ $# -gt 0 ]; do
  case "$1" in
    --pki) pki_dir="${2:?--pki needs a directory}"; shift 2 ;;
    --image) image="${2:?--image needs an image}"; shift 2 ;;
    --namespace) namespace=(--namespace "${2:?--namespace needs a name}"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "create-secrets.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# Swarm: one secret per file, mounted by name (stack.yml).
SWARM_SECRETS=(
  "enclave-elect-root-cert:root.crt.pem"
  "enclave-elect-attestation-cert:attestation.crt.pem"
  "enclave-elect-attestation-key:attestation.key.pem"
  "enclave-elect-join-secret:join.key"
)
SWARM_CONFIGS=(
  "enclave-elect-root-cert:root.crt.pem"
)
# Kubernetes: one Secret holding the enclave's files, mounted as a directory (enclave.yaml).
KUBERNETES_PKI_SECRET="enclave-elect-pki:root.crt.pem,attestation.crt.pem,attestation.key.pem,join.key"
# Kubernetes: the join secret again, in a Secret only the peers mount (peer.yaml).
KUBERNETES_ADMISSION_SECRET="enclave-elect-admission:join.key"
KUBERNETES_TRUST_CONFIGMAP="enclave-elect-trust:root.crt.pem"

if [ -z "$pki_dir" ]; then
  pki_dir="$(mktemp -d)"
  trap 'rm -rf "$pki_dir"' EXIT
  # The image runs as uid 1000: let it write into the temporary directory.
  chmod 0777 "$pki_dir"
  docker run --rm --read-only --cap-drop ALL -v "$pki_dir:/pki" "$image" pki init --out /pki --join /pki >&2
fi

# "name:file1,file2" -> --from-file arguments, each file checked.
from_files() {
  local files="${1#*:}" file
  for file in ${files//,/ }; do
    [ -r "$pki_dir/$file" ] || { echo "create-secrets.sh: $pki_dir/$file is missing; run 'enclave-elect pki init --out DIR' first" >&2; exit 1; }
    printf -- '--from-file=%s=%s\n' "$file" "$pki_dir/$file"
  done
}

if [ "$target" = swarm ]; then
  for entry in "${SWARM_SECRETS[@]}" "${SWARM_CONFIGS[@]}"; do from_files "$entry" >/dev/null; done
  for entry in "${SWARM_SECRETS[@]}"; do
    docker secret create --label io.enclave-elect.managed=true "${entry%%:*}" "$pki_dir/${entry#*:}" >/dev/null
    echo "secret ${entry%%:*} <- ${entry#*:}"
  done
  for entry in "${SWARM_CONFIGS[@]}"; do
    docker config create --label io.enclave-elect.managed=true "${entry%%:*}" "$pki_dir/${entry#*:}" >/dev/null
    echo "config ${entry%%:*} <- ${entry#*:}"
  done
else
  from_files "$KUBERNETES_PKI_SECRET" >/dev/null && from_files "$KUBERNETES_TRUST_CONFIGMAP" >/dev/null
  from_files "$KUBERNETES_ADMISSION_SECRET" >/dev/null
  mapfile -t pki_args < <(from_files "$KUBERNETES_PKI_SECRET")
  mapfile -t admission_args < <(from_files "$KUBERNETES_ADMISSION_SECRET")
  mapfile -t trust_args < <(from_files "$KUBERNETES_TRUST_CONFIGMAP")
  kubectl "${namespace[@]}" create secret generic "${KUBERNETES_PKI_SECRET%%:*}" "${pki_args[@]}"
  kubectl "${namespace[@]}" create configmap "${KUBERNETES_TRUST_CONFIGMAP%%:*}" "${trust_args[@]}"
  kubectl "${namespace[@]}" create secret generic "${KUBERNETES_ADMISSION_SECRET%%:*}" "${admission_args[@]}"
fi
