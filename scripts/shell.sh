#!/usr/bin/env bash
# Chat with the assistant in the terminal: the action server runs in the background meanwhile.
# ACTION_PORT moves the action server and Rasa follows it (scripts/common.sh, as serve.sh does);
# RASA_PORT, RASA_ENDPOINTS, RASA_MODEL and TRACKER_DB as in scripts/serve.sh. Both listen on loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
ACTION_PORT="${ACTION_PORT:-5055}"
mkdir -p var
local_endpoints
SANIC_HOST="${ACTION_INTERFACE:-127.0.0.1}" .venv/bin/python -m actions --actions actions --port "$ACTION_PORT" \
  >"${ACTION_LOG:-var/action-server.log}" 2>&1 &
actions=$!
trap 'kill $actions 2>/dev/null; wait $actions 2>/dev/null; [ -z "$ENDPOINTS_TMP" ] || rm -f "$ENDPOINTS_TMP"' EXIT INT TERM
for _ in $(seq 1 240); do
  curl -sf "http://${ACTION_INTERFACE:-127.0.0.1}:$ACTION_PORT/health" >/dev/null 2>&1 && break
  kill -0 $actions 2>/dev/null || { echo "the action server did not start (see ${ACTION_LOG:-var/action-server.log})" >&2; exit 1; }
  sleep 0.5
done
.venv/bin/python -m bot.rasa shell --interface 127.0.0.1 --port "${RASA_PORT:-5005}" \
  --model "${RASA_MODEL:-models/clinic-assistant.tar.gz}" --endpoints "$ENDPOINTS" --quiet
