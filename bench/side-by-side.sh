#!/usr/bin/env bash
# Issue H's side-by-side table: every workload against the limit server, daxlite with its
# cache, daxlite --no-cache in memory and on disk, and Amazon DynamoDB Local, one
# `daxlite-bench compare` per workload. Release build; results in bench/results/h-*.
#
#   bench/side-by-side.sh [path/to/dynamodb-local]      # WORKLOADS="get put" to narrow
set -uo pipefail
cd "$(dirname "$0")/.."
ddb_local=${1:-../shared/tools/dynamodb-local}
cargo build --release -p daxlite -p daxlite-bench
B=target/release/daxlite-bench
D=$PWD/target/release/daxlite
disk=$(mktemp -d)
(cd "$disk" && exec "$D" --port 8201 --no-cache --data-dir "$disk" --log-level warn) >"$disk/log" 2>&1 &
disk_pid=$!
out=$("$ddb_local" 8100)
echo "$out"
ddb_pid=$(echo "$out" | grep -o -i 'pid[ =:]*[0-9]*' | grep -o '[0-9]*' | head -1)
trap 'kill $disk_pid $ddb_pid 2>/dev/null; rm -rf "$disk"' EXIT
sleep 3
for w in ${WORKLOADS:-get put update delete put-new query batch-write}; do
  echo "=== $w"
  $B compare --daxlite "$D" \
    --spawn limit,cached,uncached,disk=http://127.0.0.1:8201,ddb-local=http://127.0.0.1:8100 \
    --pid disk=$disk_pid --pid ddb-local=$ddb_pid --workload "$w" --connections 16 \
    --item-size 200 --keys 10000 --warmup 1 --duration 8 --rounds 2 \
    --out bench/results --name "h-$w"
done
