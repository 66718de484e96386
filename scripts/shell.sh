#!/usr/bin/env bash
# Chat with the assistant in the terminal: the action server runs in the background meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
ACTION_PORT="${ACTION_PORT:-5055}"
.venv/bin/python -m actions --actions actions --port "$ACTION_PORT" >var/action-server.log 2>&1 &
actions=$!
trap 'kill $actions 2>/dev/null; wait $actions 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 120); do
  curl -sf "http://localhost:$ACTION_PORT/health" >/dev/null 2>&1 && break
  sleep 0.5
done
.venv/bin/python -m bot.rasa shell --port "${RASA_PORT:-5005}" --model models/clinic-assistant.tar.gz --endpoints "${RASA_ENDPOINTS:-endpoints.yml}" --quiet
