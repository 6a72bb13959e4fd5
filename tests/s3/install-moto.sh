#!/usr/bin/env bash
# Installs moto's S3-compatible server (PyPI `moto[server]`) into a virtualenv under the
# cargo target dir, for tests/tests/s3.rs. Idempotent: does nothing once the venv holds
# a finished install (marker `.daxlite-installed`). Usage: install-moto.sh <venv dir>
set -euo pipefail
venv="${1:?usage: install-moto.sh <venv dir>}"
if [ -f "$venv/.daxlite-installed" ] && [ -x "$venv/bin/moto_server" ]; then
  exit 0
fi
python=""
for p in python3 python; do
  if command -v "$p" >/dev/null 2>&1; then python="$p"; break; fi
done
if [ -z "$python" ]; then
  echo "install-moto.sh: no python3 on PATH; the S3 tests need Python 3 to run moto_server" >&2
  exit 2
fi
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5,<6'
touch "$venv/.daxlite-installed"
