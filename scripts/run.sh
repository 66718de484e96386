#!/usr/bin/env bash
# Everything a newcomer needs: the servers (scripts/serve.sh) and, when present, the web widget's demo page.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077
# On exit or a signal: stop the whole group and wait for it. The shell ignores the TERM it sends
# itself, so it outlives its children (callers that wait for it know the ports are free).
trap 'trap "" INT TERM; trap - EXIT; kill 0 2>/dev/null; wait' EXIT INT TERM
scripts/serve.sh &
if [ -x scripts/web-serve.sh ]; then
  scripts/web-serve.sh &
fi
wait -n
