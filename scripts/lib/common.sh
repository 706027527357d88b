# Shared shell helpers for the provisioning and offline-image scripts.
# Sourced, never executed. Keeps the "where is the Debian mirror" and
# "time this step" logic in one place.

# step NAME CMD...: run CMD, print how long it took, fail loudly.
step() {
  local name=$1; shift
  local start=${EPOCHREALTIME/./} rc=0
  echo "::: ${name} ..." >&2
  "$@" || rc=$?
  local ms=$(( (${EPOCHREALTIME/./} - start) / 1000 ))
  local line
  line=$(printf '%-30s %7d.%01d s' "${name}" $((ms / 1000)) $(((ms % 1000) / 100)))
  if [ "${rc}" = 0 ]; then
    echo "::: ${line}" >&2
    STEP_TIMES+=("${line}")
  else
    echo "::: ${line}  FAILED (exit ${rc})" >&2
    STEP_TIMES+=("${line}  FAILED")
  fi
  return "${rc}"
}
STEP_TIMES=()

print_step_times() {
  echo "::: step times" >&2
  local line
  for line in "${STEP_TIMES[@]}"; do echo ":::   ${line}" >&2; done
}

# debian_mirror: the first Debian archive URI this machine's apt is configured
# with (deb822 or one-line format). We never name a mirror ourselves.
debian_mirror() {
  local uri=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
      /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  fi
  if [ -z "${uri}" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' \
      /etc/apt/sources.list | head -n1)
  fi
  if [ -z "${uri}" ]; then
    echo "error: could not find a Debian mirror in /etc/apt/sources.list{,.d}; configure apt first" >&2
    return 1
  fi
  echo "${uri%/}"
}

apt_updated=0
apt_update_once() {
  if [ "${apt_updated}" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
}

apt_install() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "install ok installed" || missing+=("${pkg}")
  done
  [ "${#missing[@]}" = 0 ] && return 0
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
