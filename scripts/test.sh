#!/usr/bin/env bash
# Installs what the test suite needs and runs all of it: ruff, mypy --strict, pytest (through tox).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
python3 -m venv .venv-tox
.venv-tox/bin/python -m pip install -q --upgrade pip tox
exec .venv-tox/bin/tox -e lint,type,tests "$@"
