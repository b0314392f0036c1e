#!/usr/bin/env bash
# Record terminal sessions of `mde demo` and `mde alerts list` at 80 and 120 columns with tmux.
# Usage (from the repository root): docs/screens/record.sh
# Writes docs/screens/{demo,alerts-list,doctor}-{80,120}.txt. Needs tmux and the .venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
MDE="$PWD/.venv/bin/mde"
OUT="$PWD/docs/screens"
TMP="$(mktemp -d)"
trap 'kill "$EMU_PID" 2>/dev/null || true; rm -rf "$TMP"' EXIT

"$MDE" emulator serve --state-dir "$TMP" --ready-file "$TMP/ready.json" >/dev/null 2>&1 &
EMU_PID=$!
for _ in $(seq 100); do [ -s "$TMP/ready.json" ] && break; sleep 0.1; done
URL=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['url'])" "$TMP/ready.json")
CA=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ca_cert'])" "$TMP/ready.json")

post() { curl -sf --cacert "$CA" -H 'content-type: application/json' -X POST "$URL/_emulator$1" -d "$2"; }
TENANT=$(post /tenants '{"displayName":"Contoso"}' | python3 -c "import json,sys; print(json.load(sys.stdin)['tenantId'])")
post "/tenants/$TENANT/seed" '{"machines":25,"alerts":120,"seed":7}' >/dev/null
APP=$(post "/tenants/$TENANT/applications" \
  '{"displayName":"screens","permissions":["Alert.Read.All","Machine.Read.All"],"grantConsent":true,"secret":true}')
CLIENT_ID=$(echo "$APP" | python3 -c "import json,sys; print(json.load(sys.stdin)['appId'])")
SECRET=$(echo "$APP" | python3 -c "import json,sys; print(json.load(sys.stdin)['secret']['value'])")

cat >"$TMP/env.sh" <<EOF
export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CLIENT_ID AZURE_CLIENT_SECRET='$SECRET'
export MDEKIT_BASE_URL=$URL MDEKIT_AUTHORITY=$URL MDEKIT_CA_BUNDLE=$CA MDEKIT_CONFIG_DIR=$TMP/config
export PS1='$ '
EOF

record() {  # record NAME WIDTH COMMAND...
  local name=$1 width=$2; shift 2
  local session="mde-$name-$width"
  tmux kill-session -t "$session" 2>/dev/null || true
  tmux new-session -d -s "$session" -x "$width" -y 50 \
    "bash --norc -c 'source $TMP/env.sh; echo \"\$ $*\"; $*; echo \"[exit \$?]\"; sleep 60'"
  tmux set-option -t "$session" history-limit 5000 >/dev/null
  for _ in $(seq 300); do
    tmux capture-pane -p -t "$session" -S - | grep -q '^\[exit ' && break
    sleep 0.1
  done
  tmux capture-pane -p -t "$session" -S - | sed -e 's/[[:space:]]*$//' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' \
    >"$OUT/$name-$width.txt"
  tmux kill-session -t "$session"
}

for width in 80 120; do
  record demo "$width" "$MDE" demo
  record alerts-list "$width" "$MDE" alerts list --top 15
  record doctor "$width" "$MDE" doctor --need alerts.list,actions.isolate
done
echo "wrote $(ls "$OUT"/*.txt | wc -l) captures to $OUT"
