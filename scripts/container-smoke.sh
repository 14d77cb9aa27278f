#!/usr/bin/env bash
# Container smoke test: the image is built and `reconcile run` works inside it, offline from any registry.
#
#   1. a Debian bookworm base (python3, python3-venv, git, ca-certificates, openssh-client) with mmdebstrap,
#      cached as .container/base-<key>.tar and imported as localhost/avd-base:<key> (reruns skip both);
#   2. `make container CONTAINER_BASE=localhost/avd-base:<key>` (the Dockerfile, as users build it), skipped
#      when the image's label says it was built from the same inputs (context, Dockerfile, base);
#   3. a sandbox on the host (127.0.0.1) and a local git repository with a small self-contained estate
#      (one gallery, definition, two versions, a host pool pinned to 1.0.0; its subnet and Key Vault seeded);
#   4. the image's own ENTRYPOINT (`reconcile run`) as its own USER inside the image, with
#      `buildah run --isolation chroot --network host` (`podman run` cannot setrlimit on these machines);
#   5. /healthz, /readyz and /metrics answer; the process runs as a non-root uid; a commit moving the pin to
#      1.1.0 shows up on the sandbox's host pool tag; SIGTERM stops it with exit 0; the image size is printed.
#
# Needs root, podman, buildah and mmdebstrap (.ci/run installs them); skips with a message only when they are
# missing. Every process and container it starts is stopped on exit. Talks to loopback only (and, for the
# first builds, to Debian's mirror and PyPI). CONTAINER_SMOKE_KEEP=1 keeps the temp folder for a post-mortem.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
T0=$SECONDS
say() { echo "== container-smoke: $*"; }
fail() { echo "== container-smoke: FAILED: $*" >&2; exit 1; }

for tool in podman buildah mmdebstrap; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "SKIPPED: $tool is not installed and could not be installed (apt-get install -y mmdebstrap podman buildah)"
    exit 0
  fi
done
[ "$(id -u)" = 0 ] || fail "needs root (mmdebstrap, rootful podman with the vfs driver)"
command -v curl >/dev/null || fail "needs curl"

PY=${VENV:-.venv}/bin/python
[ -x "$PY" ] || fail "no project venv at ${VENV:-.venv} (make .venv/.installed)"
STORAGE=${PODMAN_STORAGE:-vfs}
PODMAN=(podman --storage-driver "$STORAGE")
BUILDAH=(buildah --storage-driver "$STORAGE")
IMAGE=avd-reconciler:dev
CACHE=$ROOT/.container
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
PACKAGES=python3,python3-venv,git,ca-certificates,openssh-client
# Docs, man pages and translations are dropped at unpack time: smaller image, nothing the controller reads.
MMDEBSTRAP_ARGS=(--variant=minbase --include="$PACKAGES" --components=main
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias'
  bookworm - "deb $MIRROR bookworm main" "deb $MIRROR bookworm-updates main"
  "deb $SECURITY bookworm-security main")
KEY=$(printf '%s\n' "${MMDEBSTRAP_ARGS[@]}" | sha256sum | cut -c1-12)
BASE_TAR=$CACHE/base-$KEY.tar
BASE_IMAGE=localhost/avd-base:$KEY

TMP=$(mktemp -d /tmp/container-smoke.XXXXXX)
chmod 755 "$TMP"
SANDBOX_PID=
RUN_PID=
CTR=
cleanup() {
  local rc=$?
  set +e
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    for pid in $(descendants "$RUN_PID"); do kill -TERM "$pid" 2>/dev/null; done
    kill -TERM "$RUN_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.2; done
    for pid in $(descendants "$RUN_PID"); do kill -KILL "$pid" 2>/dev/null; done
    kill -KILL "$RUN_PID" 2>/dev/null
  fi
  [ -n "$CTR" ] && { "${BUILDAH[@]}" umount "$CTR"; "${BUILDAH[@]}" rm "$CTR"; } >/dev/null 2>&1
  if [ -n "$SANDBOX_PID" ] && kill -0 "$SANDBOX_PID" 2>/dev/null; then
    kill -TERM "$SANDBOX_PID"; wait "$SANDBOX_PID" 2>/dev/null
  fi
  if [ "$rc" != 0 ]; then
    for f in "$TMP"/controller.log "$TMP"/sandbox.err; do
      [ -s "$f" ] && { echo "---- last lines of $(basename "$f")"; tail -n 40 "$f"; }
    done
  fi
  if [ "${CONTAINER_SMOKE_KEEP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every descendant pid of $1 (children first listed last), from /proc: no pkill, no guessing by name.
descendants() {
  local kids
  kids=$(ps -o pid= --ppid "$1" 2>/dev/null || true)
  for k in $kids; do descendants "$k"; echo "$k"; done
}

# Wait up to $1 seconds for the command "${@:2}" to succeed.
wait_until() {
  local limit=$1; shift
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    if [ -n "$RUN_PID" ] && ! kill -0 "$RUN_PID" 2>/dev/null; then fail "the controller exited early"; fi
    sleep 0.5
  done
}

# ---- 1. base image --------------------------------------------------------------------------------------
mkdir -p "$CACHE"
if "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
  say "base $BASE_IMAGE already imported"
else
  if [ ! -s "$BASE_TAR" ]; then
    say "building the base rootfs with mmdebstrap ($PACKAGES)"
    t=$SECONDS
    timeout 900 mmdebstrap --quiet "${MMDEBSTRAP_ARGS[@]}" > "$BASE_TAR.part" || fail "mmdebstrap failed"
    mv "$BASE_TAR.part" "$BASE_TAR"
    say "base rootfs built in $((SECONDS - t)) s ($(du -h "$BASE_TAR" | cut -f1))"
  fi
  "${PODMAN[@]}" import --quiet "$BASE_TAR" "$BASE_IMAGE" >/dev/null || fail "podman import failed"
  say "base imported as $BASE_IMAGE"
fi

# ---- 2. the image ---------------------------------------------------------------------------------------
# Even a fully cached `podman build` costs minutes on vfs (a rootfs copy per stage): the image carries a hash
# of its inputs (the build context, the Dockerfile, the base) and is rebuilt only when they change.
INPUTS=$( { sha256sum Dockerfile .dockerignore pyproject.toml README.md
            find reconciler -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum
            echo "$BASE_IMAGE"; } | sha256sum | cut -c1-16)
BUILT=$("${PODMAN[@]}" image inspect --format '{{index .Labels "avd-reconciler.inputs"}}' "$IMAGE" 2>/dev/null || true)
if [ "$BUILT" = "$INPUTS" ] && [ "${CONTAINER_SMOKE_REBUILD:-0}" != 1 ]; then
  say "image $IMAGE is up to date (inputs $INPUTS; CONTAINER_SMOKE_REBUILD=1 rebuilds)"
else
  OLD_ID=$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
  t=$SECONDS
  timeout 1200 make --no-print-directory container CONTAINER_BASE="$BASE_IMAGE" PODMAN_STORAGE="$STORAGE" \
    CONTAINER_BUILD_FLAGS="--label avd-reconciler.inputs=$INPUTS" > "$TMP/build.log" 2>&1 \
    || { tail -n 40 "$TMP/build.log"; fail "image build failed"; }
  say "image $IMAGE built in $((SECONDS - t)) s on $BASE_IMAGE"
  # The previous build of this tag (and its layers no other image uses): vfs layers are full copies.
  if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$IMAGE")" ]; then
    "${PODMAN[@]}" rmi "$OLD_ID" >/dev/null 2>&1 || true
  fi
fi
SIZE=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
read -r -a ENTRYPOINT < <("${PODMAN[@]}" image inspect --format '{{join .Config.Entrypoint " "}}' "$IMAGE")
IMAGE_USER=$("${PODMAN[@]}" image inspect --format '{{.Config.User}}' "$IMAGE")
[ "${ENTRYPOINT[*]}" = "reconcile run" ] || fail "entrypoint is '${ENTRYPOINT[*]}', not 'reconcile run'"

# ---- 3. sandbox and git repository on the host ----------------------------------------------------------
"$PY" -m reconciler sandbox serve --port 0 --time-scale 100000 > "$TMP/sandbox.json" 2> "$TMP/sandbox.err" &
SANDBOX_PID=$!
wait_until 60 test -s "$TMP/sandbox.json" || fail "the sandbox did not start"
# The CA files, readable by the container's user, at a path the container sees; the rest of env as is.
mkdir -p "$TMP/ca"
"$PY" - "$TMP" <<'EOF'
import json, shutil, sys
tmp = sys.argv[1]
info = json.loads(open(f"{tmp}/sandbox.json").readline())
env = dict(info["env"])
for key, name in (("RECONCILE_CA_BUNDLE", "sandbox-ca.pem"), ("REQUESTS_CA_BUNDLE", "requests-bundle.pem")):
    shutil.copyfile(env[key], f"{tmp}/ca/{name}")
    env[key] = f"/etc/sandbox-ca/{name}"
with open(f"{tmp}/container.env", "w") as f:
    f.writelines(f"{k}={v}\n" for k, v in env.items())
with open(f"{tmp}/sandbox.vars", "w") as f:
    f.write(f"ENDPOINT={info['endpoint']}\nCA={info['ca_bundle']}\nSUB={info['subscription_ids'][0]}\n")
EOF
chmod -R a+rX "$TMP/ca"
# shellcheck disable=SC1091
. "$TMP/sandbox.vars"
RG=/subscriptions/$SUB/resourceGroups/rg-smoke
POOL_ID=$RG/providers/Microsoft.DesktopVirtualization/hostPools/pool-smoke
DEF_ID=$RG/providers/Microsoft.Compute/galleries/galsmoke/images/win11
# The estate's own landing zone (the reconciler checks references, never creates them): a resource group, a
# subnet, a Key Vault secret and the source images, seeded in REST shape, so the test does not depend on the
# sandbox's default one.
VNET=$RG/providers/Microsoft.Network/virtualNetworks/vnet-smoke
SUBNET=$VNET/subnets/snet-smoke
VAULT=$RG/providers/Microsoft.KeyVault/vaults/kv-smoke
# The golden managed images the two versions are made from: the sandbox, like Azure, refuses a version whose
# source image does not exist (404 ResourceNotFound).
golden_image() {
  cat <<EOF
{"id": "$RG/providers/Microsoft.Compute/images/src-$1", "name": "src-$1", "type": "Microsoft.Compute/images",
  "location": "westeurope", "properties": {"provisioningState": "Succeeded", "hyperVGeneration": "V2",
  "storageProfile": {"osDisk": {"osType": "Windows", "osState": "Generalized", "diskSizeGB": 127}, "dataDisks": []}}}
EOF
}
cat > "$TMP/seed.json" <<EOF
[{"id": "$RG", "name": "rg-smoke", "type": "Microsoft.Resources/resourceGroups", "location": "westeurope",
  "properties": {"provisioningState": "Succeeded"}},
 {"id": "$VNET", "name": "vnet-smoke", "type": "Microsoft.Network/virtualNetworks", "location": "westeurope",
  "properties": {"provisioningState": "Succeeded", "addressSpace": {"addressPrefixes": ["10.250.0.0/16"]}}},
 {"id": "$SUBNET", "name": "snet-smoke", "type": "Microsoft.Network/virtualNetworks/subnets",
  "properties": {"provisioningState": "Succeeded", "addressPrefix": "10.250.0.0/24"}},
 {"id": "$VAULT", "name": "kv-smoke", "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "properties": {}},
 {"id": "$VAULT/secrets/admin", "name": "admin", "type": "Microsoft.KeyVault/vaults/secrets", "properties": {}},
 $(golden_image 1-0-0), $(golden_image 1-1-0)]
EOF
curl -fsS --cacert "$CA" -H 'Content-Type: application/json' --data-binary "@$TMP/seed.json" \
  "$ENDPOINT/_sandbox/seed" >/dev/null || fail "cannot seed the sandbox"

ORIGIN=$TMP/origin
mkdir -p "$ORIGIN/desired"
version_doc() {
  cat <<EOF
---
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageVersion
metadata: {name: "$1"}
spec:
  definition: win11
  source: {managedImageId: $RG/providers/Microsoft.Compute/images/src-${1//./-}}
  targetRegions: [{name: westeurope}]
EOF
}
{
  cat <<EOF
apiVersion: avd.reconciler.io/v1alpha1
kind: Settings
metadata: {name: smoke}
spec:
  subscriptions: {main: $SUB}
  defaults: {subscription: main, resourceGroup: rg-smoke, location: westeurope}
  ownershipTag: {name: owner, value: container-smoke}
---
apiVersion: avd.reconciler.io/v1alpha1
kind: Gallery
metadata: {name: galsmoke}
spec: {description: container smoke test}
---
apiVersion: avd.reconciler.io/v1alpha1
kind: ImageDefinition
metadata: {name: win11}
spec:
  gallery: galsmoke
  identifier: {publisher: P, offer: O, sku: S}
  features: [{name: SecurityType, value: TrustedLaunchSupported}]
  retention: {keepNewest: 3, endOfLifeAfter: 0s, deleteAfterEndOfLife: true}
EOF
  version_doc 1.0.0
  version_doc 1.1.0
  cat <<EOF
---
apiVersion: avd.reconciler.io/v1alpha1
kind: HostPool
metadata: {name: pool-smoke}
spec:
  friendlyName: Smoke
  image: {definition: win11, version: "1.0.0"}
  sessionHosts:
    count: 0
    vmSize: Standard_D4s_v5
    namePrefix: sm
    subnetId: $SUBNET
    localAdmin: {password: {keyVaultSecret: {vaultName: kv-smoke, secretName: admin}}}
    join: {type: entra}
EOF
} > "$ORIGIN/desired/estate.yaml"
# The container's user (10001) owns the repository: git refuses to serve a repository owned by someone else.
export GIT_AUTHOR_NAME=smoke GIT_AUTHOR_EMAIL=smoke@example.invalid GIT_COMMITTER_NAME=smoke \
  GIT_COMMITTER_EMAIL=smoke@example.invalid
hostgit() { git -c safe.directory='*' -C "$ORIGIN" "$@"; }
hostgit init --quiet --initial-branch=main
hostgit add -A && hostgit commit --quiet -m "smoke: pin 1.0.0"
chown -R 10001:10001 "$ORIGIN"
mkdir -p "$TMP/work" && chown 10001:10001 "$TMP/work"

# ---- 4. reconcile run inside the image ------------------------------------------------------------------
CTR=$("${BUILDAH[@]}" from --quiet --pull=never "$IMAGE")
ROOTFS=$("${BUILDAH[@]}" mount "$CTR")
touch "$TMP/started"
sleep 1  # mtimes: anything the run writes is strictly newer than the marker
ENVFLAGS=()
while IFS= read -r line; do ENVFLAGS+=(--env "$line"); done < "$TMP/container.env"
RUN=("${BUILDAH[@]}" run --isolation chroot --network host "${ENVFLAGS[@]}"
     -v "$TMP/ca:/etc/sandbox-ca:ro" -v "$ORIGIN:/origin:ro" -v "$TMP/work:/work" "$CTR" --)
INSIDE_UID=$("${RUN[@]}" id -u)
[ "$INSIDE_UID" != 0 ] || fail "the image runs as root (USER $IMAGE_USER)"
say "inside the image: uid $INSIDE_UID (USER $IMAGE_USER), $("${RUN[@]}" git --version), $("${RUN[@]}" sh -c 'ssh -V 2>&1'), CA roots $("${RUN[@]}" sh -c 'grep -c BEGIN /etc/ssl/certs/ca-certificates.crt')"

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
"${RUN[@]}" "${ENTRYPOINT[@]}" --git-url file:///origin --git-ref main --git-path desired \
  --workdir /work/source --state local:/work/state --identity container-smoke \
  --interval 5 --poll 0.5 --retry-interval 1 --listen "127.0.0.1:$PORT" > "$TMP/controller.log" 2>&1 &
RUN_PID=$!

wait_until 120 curl -fsS "$URL/healthz" || fail "/healthz did not answer 200 within 120 s"
wait_until 120 curl -fsS "$URL/readyz" || fail "/readyz did not answer 200 within 120 s"
curl -fsS "$URL/metrics" > "$TMP/metrics.txt" || fail "/metrics did not answer"
grep -q '^reconcile_leader 1' "$TMP/metrics.txt" || fail "/metrics does not show reconcile_leader 1"
say "/healthz 200, /readyz 200, /metrics $(grep -c '^reconcile_' "$TMP/metrics.txt") reconcile_ samples (reconcile_leader 1)"

# The uid of the controller process itself, as the host sees it.
CONTROLLER_UID=
for pid in $(descendants "$RUN_PID"); do
  if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q '^/opt/venv/bin/python[0-9.]* /opt/venv/bin/reconcile run'; then
    CONTROLLER_UID=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status"); CONTROLLER_PID=$pid; break
  fi
done
[ -n "$CONTROLLER_UID" ] || fail "cannot find the reconcile process under buildah run"
[ "$CONTROLLER_UID" != 0 ] || fail "reconcile run runs as root"
say "reconcile run (pid $CONTROLLER_PID) runs as uid $CONTROLLER_UID"

pin() {
  curl -fsS --cacert "$CA" "$ENDPOINT/_sandbox/resources?prefix=$POOL_ID" | "$PY" -c \
    'import json, sys; v = json.load(sys.stdin)["value"]; print(((v[0].get("tags") or {}) if v else {}).get("avd-reconciler-image-version", ""))'
}
pinned_to() { [ "$(pin)" = "$(echo "$DEF_ID/versions/$1" | tr 'A-Z' 'a-z')" ]; }
wait_until 120 pinned_to 1.0.0 || fail "the first cycle did not pin 1.0.0 (pool tag: '$(pin)')"
say "first cycle applied: pool-smoke pinned to 1.0.0"

sed -i 's/image: {definition: win11, version: "1.0.0"}/image: {definition: win11, version: "1.1.0"}/' \
  "$ORIGIN/desired/estate.yaml"
hostgit commit --quiet -am "smoke: pin 1.1.0"
COMMIT=$(hostgit rev-parse HEAD)
t=$SECONDS
wait_until 120 pinned_to 1.1.0 || fail "the pin change was not applied within 120 s (pool tag: '$(pin)')"
say "pin applied from inside the container: pool-smoke -> 1.1.0 (commit ${COMMIT:0:12}) in $((SECONDS - t)) s"
curl -fsS "$URL/status" | "$PY" -c 'import json, sys; s = json.load(sys.stdin); c = s["last_cycle"] or {}; sys.exit(0 if s["desired"]["last_good_commit"] == sys.argv[1] else 1)' "$COMMIT" \
  || fail "/status does not name commit $COMMIT as the last good one"

# ---- 5. stop: SIGTERM releases and exits 0 ---------------------------------------------------------------
kill -TERM "$CONTROLLER_PID"
rc=0
timeout 60 tail --pid="$RUN_PID" -f /dev/null || fail "reconcile run did not stop within 60 s of SIGTERM"
wait "$RUN_PID" || rc=$?
RUN_PID=
[ "$rc" = 0 ] || fail "reconcile run exited $rc after SIGTERM"
"$PY" -c 'import json, sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' "$TMP/controller.log" \
  || fail "the controller's log has a line that is not JSON"
say "SIGTERM: exit 0; every log line is JSON"
# Read-only root in a pod: the run may write only where the pod mounts volumes (/tmp, HOME, /work).
# Directories are left out: buildah creates the bind mounts' mount points (and so touches their parents).
WRITTEN=$(cd "$ROOTFS" && find . -xdev -newer "$TMP/started" ! -type d ! -path './tmp/*' \
          ! -path './home/reconciler/*' ! -path './work/*' | head -n 20)
[ -z "$WRITTEN" ] || fail "the controller wrote outside the pod's volumes (its root is read-only there): $WRITTEN"
say "nothing written outside /tmp, /home/reconciler and /work (read-only root filesystem in a pod)"
say "image size: $SIZE bytes ($((SIZE / 1024 / 1024)) MiB), $IMAGE on $BASE_IMAGE"
say "passed in $((SECONDS - T0)) s"
