#!/bin/sh
# Regenerates the differential test's messages and biip's reading of them
# (tests/it/gs1_diff/messages.jsonl), and the ISO code lists the parser checks against
# (crates/domain/src/scan/gs1/iso-codes.txt). Needs python3 and PyPI; the venv lives under
# target/ so nothing of it is committed. The test itself needs no Python.
set -eu
cd "$(dirname "$0")/../../.."
venv=target/gs1-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "biip==5.2.0" "pycountry==26.2.16"
"$venv/bin/python" tests/it/gs1_diff/iso_codes.py crates/domain/src/scan/gs1/iso-codes.txt
"$venv/bin/python" tests/it/gs1_diff/generate.py tests/it/gs1_diff/messages.jsonl "${1:-204}"
