#!/usr/bin/env bash
# Install grokvid_nb and run the main job on the sandbox: one prompt across all five
# providers, printing the comparison table and its summary. No key, no network.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e .
exec "$VENV/bin/python" -m grokvid_nb compare "${1:-a lakeside at sunset, gentle waves, golden light}" \
    --sandbox --duration 6 --resolution 480p --aspect-ratio 16:9 --adapt --csv "${TMPDIR:-/tmp}/grokvid-demo.csv"
