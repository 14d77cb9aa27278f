#!/usr/bin/env bash
# Azure CLI smoke test against the sandbox: the unmodified `az` (own venv) registers the sandbox as a cloud,
# signs in with a service principal, and creates/lists/shows/deletes a gallery, an image definition and an
# image version, then PUT/GET/DELETEs a host pool with `az rest`.
#
#   scripts/azcli-smoke.sh            # creates ./.azcli-venv on first use (pip install azure-cli, ~2 min)
#   AZCLI_VENV=/path scripts/azcli-smoke.sh
#
# Exit 0 when every step passed. Everything it starts it stops; the CLI's config lives in a temp dir.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
AZCLI_VENV="${AZCLI_VENV:-$ROOT/.azcli-venv}"
PY="${PY:-$ROOT/.venv/bin/python}"
RG=rg-azcli-smoke
GAL=galsmoke
IMG=win11avd
LOC=westeurope

log() { printf '[azcli-smoke %s] %s\n' "$(date +%T)" "$*" >&2; }

if [[ ! -x "$AZCLI_VENV/bin/az" ]]; then
  log "creating $AZCLI_VENV (pip install azure-cli; this takes a while once)"
  python3 -m venv "$AZCLI_VENV"
  "$AZCLI_VENV/bin/pip" install --quiet --upgrade pip
  "$AZCLI_VENV/bin/pip" install --quiet azure-cli
fi
AZ="$AZCLI_VENV/bin/az"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- start the sandbox and read its one JSON line
# A large time scale makes every simulated duration (replication, deletes) take milliseconds; the initial
# Retry-After of 1 s keeps the CLI from sleeping its 30 s default before the first poll.
"$PY" -m reconciler sandbox serve --port 0 --time-scale 100000 --initial-retry-after 1 \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 1 200); do
  [[ -s "$WORK/serve.out" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; log "sandbox exited early"; exit 1; }
  sleep 0.05
done
[[ -s "$WORK/serve.out" ]] || { log "sandbox printed nothing in 10 s"; exit 1; }
field() {
  "$PY" -c 'import json, sys; d = json.loads(open(sys.argv[1]).readline()); print(eval(sys.argv[2], {}, d))' \
    "$WORK/serve.out" "$1"
}
EMU="$(field endpoint)"
TENANT="$(field tenant_id)"
CLIENT="$(field client_id)"
SECRET="$(field client_secret)"
SUB="$(field 'subscription_ids[0]')"
IMAGE_ID="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.Compute/images/img-source"
HP_URL="/subscriptions/$SUB/resourceGroups/$RG/providers/Microsoft.DesktopVirtualization/hostPools/hp-smoke"
HP_URL="$HP_URL?api-version=2024-04-03"
export EMU TENANT SUB RG GAL IMG LOC IMAGE_ID  # read by the checks as env[...]
log "sandbox at $EMU"

# --- point the CLI at it (reference/clients.md)
export AZURE_CONFIG_DIR="$WORK/azure"
export REQUESTS_CA_BUNDLE="$(field 'env["REQUESTS_CA_BUNDLE"]')"
export AZURE_CORE_INSTANCE_DISCOVERY=false
export AZURE_CORE_COLLECT_TELEMETRY=false
export AZURE_CORE_ONLY_SHOW_ERRORS=true
export AZURE_CORE_NO_COLOR=true
export AZURE_CORE_OUTPUT=json
unset AZURE_CLIENT_SECRET AZURE_CLIENT_ID AZURE_TENANT_ID

# check 'PYTHON EXPRESSION' < json: d is the parsed output, env the environment, p(obj, key) reads a field
# whether or not the CLI flattened "properties". Fails the script, printing the expression, when false.
check() {
  "$PY" -c '
import json, os, sys
text = sys.stdin.read()
if not text.strip():
    sys.exit("check failed: the az command printed no JSON (its error is above): " + sys.argv[1])
d = json.loads(text)
def p(obj, key):
    return obj.get(key, (obj.get("properties") or {}).get(key))
if not eval(" ".join(sys.argv[1].split()), {"p": p, "d": d, "env": os.environ}):
    sys.exit("check failed: " + sys.argv[1] + "\n" + json.dumps(d, indent=1)[:2000])
' "$1"
}
step() { log "$*"; }
SIG=(--resource-group "$RG" --gallery-name "$GAL")
DEF=("${SIG[@]}" --gallery-image-definition "$IMG")
VER=("${DEF[@]}" --gallery-image-version 1.0.0)

step "az cloud register/set"
"$AZ" cloud register --name Sandbox --endpoint-resource-manager "$EMU" >/dev/null
"$AZ" cloud set --name Sandbox >/dev/null
"$AZ" cloud show --name Sandbox | check 'd["endpoints"]["resourceManager"].rstrip("/") == env["EMU"]'

step "az login --service-principal"
"$AZ" login --service-principal --username "$CLIENT" --password="$SECRET" --tenant "$TENANT" \
  | check 'any(s["id"] == env["SUB"] for s in d)'
"$AZ" account set --subscription "$SUB"
"$AZ" account show | check 'd["tenantId"] == env["TENANT"] and d["state"] == "Enabled"'

step "az group create/show"
"$AZ" group create --name "$RG" --location "$LOC" \
  | check 'd["properties"]["provisioningState"] == "Succeeded"'
"$AZ" group show --name "$RG" | check 'd["location"] == env["LOC"]'

step "source image (a managed image, via az rest)"
IMAGE_BODY='{"location": "'"$LOC"'", "properties": {"hyperVGeneration": "V2", "storageProfile": {"osDisk": {
  "osType": "Windows", "osState": "Generalized", "storageAccountType": "Standard_LRS",
  "blobUri": "https://example.blob.core.windows.net/vhds/base.vhd"}}}}'
"$AZ" rest --method put --url "$IMAGE_ID?api-version=2024-03-01" --body "$IMAGE_BODY" \
  | check 'd["id"].lower() == env["IMAGE_ID"].lower()'

step "az sig create/list/show"
"$AZ" sig create "${SIG[@]}" --location "$LOC" | check 'p(d, "provisioningState") == "Succeeded"'
"$AZ" sig list --resource-group "$RG" | check '[g["name"] for g in d] == [env["GAL"]]'
"$AZ" sig list | check 'env["GAL"] in [g["name"] for g in d]'
"$AZ" sig show "${SIG[@]}" | check 'd["name"] == env["GAL"]'

step "az sig image-definition create/list/show"
"$AZ" sig image-definition create "${DEF[@]}" --publisher contoso --offer avd --sku win11-24h2 \
  --os-type Windows --hyper-v-generation V2 --location "$LOC" \
  | check 'p(d, "provisioningState") == "Succeeded" and p(d, "identifier")["sku"] == "win11-24h2"'
"$AZ" sig image-definition list "${SIG[@]}" | check '[i["name"] for i in d] == [env["IMG"]]'
"$AZ" sig image-definition show "${DEF[@]}" \
  | check 'p(d, "osType") == "Windows" and p(d, "hyperVGeneration") == "V2"'

step "az sig image-version create/list/show"
"$AZ" sig image-version create "${VER[@]}" --managed-image "$IMAGE_ID" --target-regions "$LOC" northeurope \
  --location "$LOC" | check 'p(d, "provisioningState") == "Succeeded"'
"$AZ" sig image-version list "${DEF[@]}" | check '[v["name"] for v in d] == ["1.0.0"]'
"$AZ" sig image-version show "${VER[@]}" --expand ReplicationStatus \
  | check 'sorted(r["name"].replace(" ", "").lower() for r in p(d, "publishingProfile")["targetRegions"])
           == ["northeurope", "westeurope"] and p(d, "replicationStatus")["aggregatedState"] == "Completed"'

step "az rest PUT/GET/PATCH/DELETE on a host pool"
HP_BODY='{"location": "'"$LOC"'", "tags": {"managed-by": "avd-reconciler"},
  "properties": {"hostPoolType": "Pooled", "loadBalancerType": "BreadthFirst",
  "preferredAppGroupType": "Desktop", "maxSessionLimit": 8}}'
"$AZ" rest --method put --url "$HP_URL" --body "$HP_BODY" \
  | check 'd["properties"]["hostPoolType"] == "Pooled"'
"$AZ" rest --method get --url "$HP_URL" \
  | check 'd["name"] == "hp-smoke" and d["properties"]["loadBalancerType"] == "BreadthFirst"
           and d["tags"]["managed-by"] == "avd-reconciler"'
"$AZ" rest --method patch --url "$HP_URL" --body '{"properties": {"maxSessionLimit": 12}}' \
  | check 'd["properties"]["maxSessionLimit"] == 12'
"$AZ" rest --method delete --url "$HP_URL"

step "deletes: version, definition, gallery, group"
"$AZ" sig image-version delete "${VER[@]}"
"$AZ" sig image-version list "${DEF[@]}" | check 'd == []'
"$AZ" sig image-definition delete "${DEF[@]}"
"$AZ" sig delete "${SIG[@]}"
"$AZ" sig list --resource-group "$RG" | check 'd == []'
"$AZ" group delete --name "$RG" --yes
"$AZ" group exists --name "$RG" | check 'd is False'

log "all steps passed"
