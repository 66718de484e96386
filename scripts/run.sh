#!/usr/bin/env bash
# Everything a newcomer needs: the servers (scripts/serve.sh) and, when present, the web widget's demo page.
set -euo pipefail
cd "$(dirname "$0")/.."
trap 'trap - EXIT INT TERM; kill 0 2>/dev/null; wait' EXIT INT TERM
scripts/serve.sh &
if [ -x scripts/web-serve.sh ]; then
  scripts/web-serve.sh &
fi
wait -n
