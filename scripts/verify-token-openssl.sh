#!/usr/bin/env bash
# Verify an enclave-elect fencing token with openssl and coreutils alone, as a
# resource server written in any language can (docs/protocol/token.md §5).
# usage: verify-token-openssl.sh ROOT_PEM CHECKSUM CLUSTER TOKEN [MIN_EPOCH MIN_SEQ]
# Exit 0 and print "valid epoch=E seq=S leader=NAME" or exit 1 naming the failed check.
set -euo pipefail
if [[ $# -ne 4 && $# -ne 6 ]]; then
  echo "usage: $0 ROOT_PEM CHECKSUM CLUSTER TOKEN [MIN_EPOCH MIN_SEQ]" >&2
  exit 2
fi
root=$1 checksum=$2 cluster=$3 token=$4 min_epoch=${5:-0} min_seq=${6:-0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "refused: $*" >&2; exit 1; }
# base64url (RFC 4648 §5, unpadded) to bytes.
b64url() {
  local s
  s=$(tr '_-' '/+')
  case $((${#s} % 4)) in 2) s+='==' ;; 3) s+='=' ;; esac
  printf '%s' "$s" | base64 -d
}
# The value of a string or integer member of canonical JSON (no whitespace, no escapes in our values).
member() { sed -nE "s/.*\"$1\":\"?([^\",}]*)\"?[,}].*/\1/p" <<<"$2" | head -n1; }

[[ $token == *~* ]] || fail "not <certificate>~<attestation>"
certificate=${token%%~*} attestation=${token#*~}
IFS=. read -r ah ap as <<<"$attestation"
IFS=. read -r ch cp cs <<<"$certificate"
[[ -n $as && -n $cs ]] || fail "a part is not a compact JWS"

# 1. The attestation's signer (x5c[0]) chains to the pinned root.
att_header=$(printf '%s' "$ah" | b64url)
[[ $(member typ "$att_header") == enclave-elect-attestation+jwt ]] || fail "attestation typ"
sed -nE 's/.*"x5c":\["([^"]+)".*/\1/p' <<<"$att_header" | base64 -d >"$work/signer.der"
openssl x509 -inform DER -in "$work/signer.der" -out "$work/signer.pem" 2>/dev/null || fail "x5c[0] is not a certificate"
openssl verify -CAfile "$root" "$work/signer.pem" >/dev/null 2>&1 || fail "attestation does not chain to the pinned root"
openssl x509 -in "$work/signer.pem" -pubkey -noout >"$work/signer-key.pem"

# 2. The attestation's RS256 signature, by that signer.
printf '%s.%s' "$ah" "$ap" >"$work/att-input"
printf '%s' "$as" | b64url >"$work/att-sig"
openssl dgst -sha256 -verify "$work/signer-key.pem" -signature "$work/att-sig" "$work/att-input" >/dev/null ||
  fail "attestation signature"

# 3. It attests the pinned function checksum; its public_key is the enclave key.
att_claims=$(printf '%s' "$ap" | b64url)
[[ $(member func_checksum "$att_claims") == "$checksum" ]] || fail "attested checksum is not the pin $checksum"
member public_key "$att_claims" | base64 -d >"$work/enclave.der"
openssl pkey -pubin -inform DER -in "$work/enclave.der" -out "$work/enclave.pem" 2>/dev/null || fail "public_key"

# 4. The certificate's RS256 signature, by the attested enclave key.
cert_header=$(printf '%s' "$ch" | b64url)
[[ $(member typ "$cert_header") == enclave-elect-leader+jwt ]] || fail "certificate typ"
printf '%s.%s' "$ch" "$cp" >"$work/cert-input"
printf '%s' "$cs" | b64url >"$work/cert-sig"
openssl dgst -sha256 -verify "$work/enclave.pem" -signature "$work/cert-sig" "$work/cert-input" >/dev/null ||
  fail "certificate signature is not the attested enclave key's"

# 5. Its claims: cluster, checksum, lease not ended, not older than the minimum.
claims=$(printf '%s' "$cp" | b64url)
[[ $(member cluster_id "$claims") == "$cluster" ]] || fail "cluster $(member cluster_id "$claims") is not $cluster"
[[ $(member func_checksum "$claims") == "$checksum" ]] || fail "certificate checksum is not the pin"
epoch=$(member epoch "$claims") seq=$(member seq "$claims") lease_end=$(member lease_end "$claims")
((lease_end > $(date +%s%3N))) || fail "lease ended at $lease_end"
((epoch > min_epoch || (epoch == min_epoch && seq >= min_seq))) || fail "epoch $epoch seq $seq is older than $min_epoch $min_seq"
leader=$(sed -nE 's/.*"leader":\{"key":"[^"]*","name":"([^"]+)"\}.*/\1/p' <<<"$claims")
echo "valid epoch=$epoch seq=$seq leader=$leader"
