#!/usr/bin/env bash
# Install what the scaled layout and its tests need from Debian when it is missing: PostgreSQL,
# Redis, nginx (`make scale-prereqs`; `make test` runs it through test-prereqs). Non-interactive.
# The packages' own system services are not started: the layout starts its own, on loopback.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing from Debian: ${missing[*]}"
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null && sudo -n true 2>/dev/null \
    || { echo "scale-prereqs: need root to install ${missing[*]} (apt-get install -y postgresql redis-server nginx)" >&2; exit 1; }
  sudo=(sudo -n)
fi
# Keep package scripts from starting system-wide daemons (a no-op where systemd/invoke-rc.d do not run them).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold -y -q)
"${apt[@]}" update >/dev/null
"${apt[@]}" install --no-install-recommends postgresql redis-server nginx >/dev/null
echo "installed: ${missing[*]}"
