#!/usr/bin/env bash
# Installs tests/clients/python/requirements.txt (boto3, the AWS CLI, hadolint) into a
# virtualenv under the cargo target dir, for tests/tests/clients.rs and deploy.rs.
# Idempotent: does nothing while the venv's marker holds the requirements' checksum.
# Usage: install-python.sh <venv dir>
set -euo pipefail
venv="${1:?usage: install-python.sh <venv dir>}"
req="$(cd "$(dirname "$0")" && pwd)/python/requirements.txt"
sum="$(cksum < "$req")"
if [ -f "$venv/.daxlite-installed" ] && [ "$(cat "$venv/.daxlite-installed")" = "$sum" ]; then
  exit 0
fi
python=""
for p in python3 python; do
  if command -v "$p" >/dev/null 2>&1; then python="$p"; break; fi
done
if [ -z "$python" ]; then
  echo "install-python.sh: no python3 on PATH; the boto3 / AWS CLI / hadolint tests need Python 3 (apt-get install python3 python3-venv)" >&2
  exit 2
fi
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
echo "$sum" > "$venv/.daxlite-installed"
