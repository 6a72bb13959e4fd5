#!/usr/bin/env bash
# Installs a requirements file into a virtualenv under the cargo target dir, for the tests
# that run Python programs (moto for s3.rs, boto3 / the AWS CLI / hadolint for clients.rs
# and deploy.rs). Idempotent: does nothing while the venv's marker holds the requirements'
# checksum. Usage: install-venv.sh <venv dir> <requirements file>
set -euo pipefail
venv="${1:?usage: install-venv.sh <venv dir> <requirements file>}"
req="${2:?usage: install-venv.sh <venv dir> <requirements file>}"
sum="$(cksum < "$req")"
if [ -f "$venv/.daxlite-installed" ] && [ "$(cat "$venv/.daxlite-installed")" = "$sum" ]; then
  exit 0
fi
python=""
for p in python3 python; do
  if command -v "$p" >/dev/null 2>&1; then python="$p"; break; fi
done
if [ -z "$python" ]; then
  echo "install-venv.sh: no python3 on PATH; these tests need Python 3 with venv (apt-get install python3 python3-venv)" >&2
  exit 2
fi
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
echo "$sum" > "$venv/.daxlite-installed"
