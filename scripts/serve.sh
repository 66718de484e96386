#!/usr/bin/env bash
# Start the action server and the Rasa server in the foreground; Ctrl-C (or either one dying) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
RASA_PORT="${RASA_PORT:-5005}" ACTION_PORT="${ACTION_PORT:-5055}"
mkdir -p var
trap 'trap - EXIT INT TERM; kill 0 2>/dev/null; wait' EXIT INT TERM
.venv/bin/rasa run actions --actions actions --port "$ACTION_PORT" &
.venv/bin/rasa run --enable-api --cors "*" --port "$RASA_PORT" \
  --credentials "${RASA_CREDENTIALS:-credentials.yml}" --endpoints "${RASA_ENDPOINTS:-endpoints.yml}" \
  --model models/clinic-assistant.tar.gz &
echo "Rasa server: http://localhost:$RASA_PORT  action server: http://localhost:$ACTION_PORT  (Ctrl-C stops both)"
wait -n
