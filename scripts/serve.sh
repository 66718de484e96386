#!/usr/bin/env bash
# Start the action server and the Rasa server in the foreground; Ctrl-C (or either one dying) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
RASA_PORT="${RASA_PORT:-5005}" ACTION_PORT="${ACTION_PORT:-5055}"
mkdir -p var
ENDPOINTS="${RASA_ENDPOINTS:-endpoints.yml}"
if [ -z "${RASA_ENDPOINTS:-}" ] && [ "$ACTION_PORT" != 5055 ]; then
  # endpoints.yml names the default action port; point Rasa at the one chosen here.
  ENDPOINTS=var/endpoints.port-$ACTION_PORT.yml
  sed "s#localhost:5055/webhook#localhost:$ACTION_PORT/webhook#" endpoints.yml >"$ENDPOINTS"
fi
# On exit or a signal: stop the whole group and wait for it. The shell ignores the TERM it sends
# itself, so it outlives its children (callers that wait for it know the ports are free).
trap 'trap "" INT TERM; trap - EXIT; kill 0 2>/dev/null; wait' EXIT INT TERM
.venv/bin/python -m actions --actions actions --port "$ACTION_PORT" &
.venv/bin/python -m bot.rasa run --enable-api --cors "*" --port "$RASA_PORT" \
  --credentials "${RASA_CREDENTIALS:-credentials.yml}" --endpoints "$ENDPOINTS" \
  --model models/clinic-assistant.tar.gz &
echo "Rasa server: http://localhost:$RASA_PORT  action server: http://localhost:$ACTION_PORT  (Ctrl-C stops both)"
wait -n
