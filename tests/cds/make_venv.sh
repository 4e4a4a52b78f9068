#!/usr/bin/env bash
# The virtual environment of the CDS Hooks test client (healthchain, pinned in requirements.txt) at
# tests/cds/.venv, apart from the service's: healthchain pins older FastAPI, httpx and fhir.resources.
# Does nothing when the venv already holds exactly requirements.txt (a stamp keeps its checksum).
set -euo pipefail
cd "$(dirname "$0")"
PY="${PY:-python3}"
STAMP=.venv/.requirements.sha256
wanted="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [ -x .venv/bin/python ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ]; then
  exit 0
fi
rm -rf .venv
"$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.txt
.venv/bin/python -c "import healthchain.sandbox"
echo "$wanted" > "$STAMP"
