#!/usr/bin/env bash
# Start the action server and the Rasa server in the foreground; Ctrl-C (or either one dying) stops both.
#
# Settings (environment; README "Security" says what each exposes):
#   RASA_PORT (5005), ACTION_PORT (5055)    ports; the action port is passed on to Rasa (scripts/common.sh)
#   RASA_INTERFACE                          Rasa's address: 0.0.0.0 (chat channels only), 127.0.0.1 with the API
#   ACTION_INTERFACE (127.0.0.1)            the action server's address
#   RASA_API (0)                            1: also Rasa's HTTP API, behind a token (RASA_AUTH_TOKEN or
#                                           $SECRETS_DIR/rasa-token, generated with mode 0600)
#   REST_CHANNEL_TOKEN                      the REST channel's token (default: $SECRETS_DIR/rest-token, generated)
#   RASA_CREDENTIALS, RASA_ENDPOINTS, RASA_MODEL, TRACKER_DB (SQLite file for endpoints.yml's tracker store)
#   RASA_MAX_BODY (1 MB), ACTION_MAX_BODY (64 MB)  largest request each server accepts
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
RASA_PORT="${RASA_PORT:-5005}" ACTION_PORT="${ACTION_PORT:-5055}"
mkdir -p var
local_endpoints
# On exit or a signal: stop the whole group and wait for it. The shell ignores the TERM it sends
# itself, so it outlives its children (callers that wait for it know the ports are free).
trap 'trap "" INT TERM; trap - EXIT; kill 0 2>/dev/null; wait; [ -z "$ENDPOINTS_TMP" ] || rm -f "$ENDPOINTS_TMP"' EXIT INT TERM

[ -n "${REST_CHANNEL_TOKEN:-}" ] || secret rest-token >/dev/null
api=()
if [ "${RASA_API:-0}" = 1 ]; then
  token="${RASA_AUTH_TOKEN:-$(secret rasa-token)}"
  api=(--enable-api --auth-token "$token")
  RASA_INTERFACE="${RASA_INTERFACE:-127.0.0.1}"
fi

SANIC_HOST="${ACTION_INTERFACE:-127.0.0.1}" SANIC_REQUEST_MAX_SIZE="${ACTION_MAX_BODY:-67108864}" \
  .venv/bin/python -m actions --actions actions --port "$ACTION_PORT" &
SANIC_REQUEST_MAX_SIZE="${RASA_MAX_BODY:-1048576}" \
  .venv/bin/python -m bot.rasa run "${api[@]}" --cors "${RASA_CORS:-*}" \
  --interface "${RASA_INTERFACE:-0.0.0.0}" --port "$RASA_PORT" \
  --credentials "${RASA_CREDENTIALS:-credentials.yml}" --endpoints "$ENDPOINTS" \
  --model "${RASA_MODEL:-models/clinic-assistant.tar.gz}" &
echo "Rasa server: http://localhost:$RASA_PORT  action server: http://${ACTION_INTERFACE:-127.0.0.1}:$ACTION_PORT  (Ctrl-C stops both)"
wait -n
