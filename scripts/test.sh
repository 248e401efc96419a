#!/usr/bin/env bash
# Install everything the test suite needs from this repo's own files, then run it.
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

# Debian's chromium drives the browser tests (Playwright never downloads a browser here).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "== installing Debian chromium for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "!! /usr/bin/chromium is missing and cannot be installed (need root + apt-get):" >&2
    echo "!! the browser tests will fail. Install Debian's chromium package first." >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[test]"
# a kernel spec inside the venv, so nbclient/nbval run this venv's Python
"$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null

set +e
"$VENV/bin/python" -m pytest "$@"
status=$?
longrun=0
if [ "$#" = "0" ]; then
  # the tests over a minute (deselected by default in pyproject's addopts), e.g. the Binder build
  echo "== longrun tests (pytest -m longrun)"
  "$VENV/bin/python" -m pytest -m longrun tests
  longrun=$?
fi
set -e
if [ "$status" = "5" ] || [ "$longrun" = "5" ]; then
  echo "!! pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
[ "$status" = "0" ] || exit "$status"
exit "$longrun"
