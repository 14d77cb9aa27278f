#!/usr/bin/env bash
# Azurite (the Blob Storage emulator) for the controller's lease tests and CI.
#   scripts/azurite.sh install        npm install azurite into ./node_modules if it is missing
#   scripts/azurite.sh start [DIR]    start azurite-blob on a free 127.0.0.1 port; writes DIR/azurite.pid and
#                                     DIR/azurite.port (DIR defaults to .azurite), prints the connection string
#   scripts/azurite.sh stop [DIR]     stop it by its recorded pid
# Azurite 3.37 declares node >= 22 but runs on node 20 (npm prints EBADENGINE warnings; harmless).
# --skipApiVersionCheck is required: azure-storage-blob 12.31 sends an API version Azurite does not know yet.
set -euo pipefail
cd "$(dirname "$0")/.."
AZURITE_VERSION=3.37.0
BIN=node_modules/.bin/azurite-blob
# The well-known development account of every Azure storage emulator (public, documented; not a secret).
DEV_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

cmd=${1:-start}
dir=${2:-.azurite}

case "$cmd" in
  install)
    if [ ! -x "$BIN" ]; then
      npm install "azurite@$AZURITE_VERSION" --no-save --no-audit --no-fund --loglevel=error
    fi
    ;;
  start)
    [ -x "$BIN" ] || "$0" install
    mkdir -p "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$BIN" --blobHost 127.0.0.1 --blobPort "$port" --inMemoryPersistence --disableTelemetry \
      --skipApiVersionCheck --silent >"$dir/azurite.log" 2>&1 &
    echo $! >"$dir/azurite.pid"
    echo "$port" >"$dir/azurite.port"
    for _ in $(seq 1 100); do
      if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null; then
        echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$DEV_KEY;BlobEndpoint=http://127.0.0.1:$port/devstoreaccount1;"
        exit 0
      fi
      sleep 0.1
    done
    echo "azurite did not open port $port within 10 s; see $dir/azurite.log" >&2
    kill "$(cat "$dir/azurite.pid")" 2>/dev/null || true
    exit 1
    ;;
  stop)
    if [ -f "$dir/azurite.pid" ]; then
      kill "$(cat "$dir/azurite.pid")" 2>/dev/null || true
      rm -f "$dir/azurite.pid" "$dir/azurite.port"
    fi
    ;;
  *)
    echo "usage: $0 install | start [DIR] | stop [DIR]" >&2
    exit 2
    ;;
esac
