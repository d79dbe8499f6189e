#!/usr/bin/env bash
# Installs the Debian packages cardbridge's tests use (architecture.md, "System components"):
# pcscd + libpcsclite-dev (the `pcsclite` native module builds against it), vsmartcard-vpcd/-vpicc
# (virtual readers and the peer card emulator), opensc + pcsc-tools (test oracles), chromium
# (Playwright) and postgresql. Non-interactive and idempotent: does nothing when all are present.
#
#   scripts/install-system-deps.sh          install what is missing
#   scripts/install-system-deps.sh --check  list what is missing, exit 1 if anything is
set -euo pipefail

PACKAGES=(pcscd libpcsclite-dev vsmartcard-vpcd vsmartcard-vpicc opensc pcsc-tools chromium postgresql)

log() { echo "install-system-deps: $*" >&2; }

installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  log "all system packages already installed"
  exit 0
fi

if [[ ${1:-} == --check ]]; then
  log "missing: ${missing[*]}"
  exit 1
fi

if ! command -v apt-get >/dev/null; then
  log "apt-get not found: install ${missing[*]} with the system's package manager"
  exit 1
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then
    SUDO=(sudo)
  else
    log "not root and no sudo: cannot install ${missing[*]}"
    exit 1
  fi
fi

log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"

for pkg in "${missing[@]}"; do
  installed "$pkg" || {
    log "$pkg is still not installed"
    exit 1
  }
done
log "done"
