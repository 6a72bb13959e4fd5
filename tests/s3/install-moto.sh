#!/usr/bin/env bash
# Installs moto's S3-compatible server (PyPI `moto[server]`, tests/s3/requirements.txt)
# into a virtualenv under the cargo target dir, for tests/tests/s3.rs, through
# tests/install-venv.sh (idempotent). Usage: install-moto.sh <venv dir>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../install-venv.sh" "${1:?usage: install-moto.sh <venv dir>}" "$here/requirements.txt"
