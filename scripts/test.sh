#!/usr/bin/env bash
# The whole check: lint, formatting, types, import contracts, then the test suite.
# Run through `make test`, which installs everything first. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }

step "ruff (lint and format)"
ruff check .
ruff format --check .
step "mypy --strict"
mypy
step "import contracts"
lint-imports
step "pytest"
set +e
pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "error: pytest collected no tests; that is a failure here, not a pass." >&2
  exit 1
fi
exit "$rc"
