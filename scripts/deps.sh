#!/usr/bin/env bash
# Installs what clusterctl's tests and demo need on a fresh Debian/Ubuntu machine, skipping
# anything already there. Usage: scripts/deps.sh [--moto] PACKAGE...
# --moto also requires moto's EC2 server, which the EC2 tests run against.
set -euo pipefail

need_moto=""
if [[ ${1:-} == --moto ]]; then
  need_moto=1
  shift
fi

missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || echo "apt-get update failed; trying the install with the current package lists" >&2
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ -n $need_moto ]] && ! command -v moto_server >/dev/null && ! python3 -c 'import moto.server' 2>/dev/null; then
  echo "moto's EC2 server (moto_server) is missing and does not come from the distribution; the EC2 tests need it: pip install 'moto[server]'" >&2
  exit 1
fi
