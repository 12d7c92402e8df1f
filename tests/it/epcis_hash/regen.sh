#!/bin/sh
# Regenerates the golden EPCIS event hashes that tests/it/epcis_partner.rs checks lotline's
# own event hash against:
#   plant.jsonld  lotline's export of a small plant with every kind of event EPCIS carries,
#                 events with two reference documents and one with the reason for none
#                 (built here with the debug binary: `cargo build` first);
#   hashes.txt    the eventID GS1's reference implementation of the CBV 2.0 event hash,
#                 epcis-event-hash-generator (from PyPI), gives each of its events, in order.
# Usage: tests/it/epcis_hash/regen.sh            both files
#        tests/it/epcis_hash/regen.sh --hashes   hashes.txt only, for the committed plant.jsonld
# Needs python3 with venv and pip (and the network the first time); the venv lives in
# target/epcis-hash, never in the repository. The tests themselves need no Python.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
venv="$root/target/epcis-hash/venv"

if [ "${1:-}" != "--hashes" ]; then
    bin="$root/target/debug/lotline"
    [ -x "$bin" ] || { echo "build lotline first: cargo build" >&2; exit 1; }
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # A fixed zone, so eventTime carries an offset; no server, no user config.
    ll() { env -i PATH="$PATH" HOME="$tmp" LANG=C.UTF-8 LOTLINE_CONFIG=none LOTLINE_NO_SERVER=1 \
        LOTLINE_STATION=dock TZ='<+02>-2' "$bin" --db "$tmp/plant.redb" "$@"; }
    ll --create plant set --name "Golden Bakery" --gln 0614141000012 >/dev/null
    ll item add EGGS --name "Shell eggs" --unit dozen --gtin 00614141000036 --ftl >/dev/null
    ll item add FLOUR --name "Flour" --unit kg >/dev/null
    ll item add BREAD --name "Bread" --unit case --kind finished --gtin 00614141000043 >/dev/null
    ll party add FARM --name "Sunny Farm" --role supplier --gln 0614141000029 >/dev/null
    ll party add MILL --name "Mill" --role supplier >/dev/null
    ll party add SHOP --name "Corner Shop" --role customer --gln 0614141000036 >/dev/null
    # Each command prints the lot (or shipment) it made.
    eggs=$(ll receive --item EGGS --supplier FARM --supplier-lot SU26301-2 --qty 30 --ref PO:88123 \
        --temp 4.0 --note 0123)
    flour=$(ll receive --item FLOUR --supplier MILL --supplier-lot M-77 --qty 50 --unit lb --ref BOL:4471)
    # Two documents an event, and a listed food received without one and the reason why.
    more=$(ll receive --item EGGS --supplier FARM --supplier-lot SU26302-1 --qty 12 \
        --ref PO:88124 --ref BOL:4480)
    ll receive --item EGGS --supplier FARM --supplier-lot SU26302-2 --qty 6 \
        --no-ref-reason "driver brought no paperwork" >/dev/null
    bread=$(ll produce --item BREAD --qty 12.5 --input "$eggs=2.5" --input "$flour=10" --line L1 --ref QA:7)
    ll produce --item BREAD --qty 2 --input "$more=2" --ref WO:2211 --ref QA:8 >/dev/null
    ship=$(ll ship --customer SHOP --lot "$bread=10" --ref INV:5521)
    ll ship --customer SHOP --lot "$bread=1" --ref INV:5522 --ref BOL:9001 >/dev/null
    ll return --shipment "$ship" --lot "$bread" --qty 1 --reason "crushed cases" --ref RMA:9 >/dev/null
    ll adjust "$flour" --qty -0.5 --reason "spilt" >/dev/null
    ll epcis export --all --out "$tmp/plant.jsonld" 2>/dev/null
    cp "$tmp/plant.jsonld" "$here/plant.jsonld"
fi

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "epcis-event-hash-generator==1.9.3"
cd "$here"
"$venv/bin/python" -m epcis_event_hash_generator -l WARNING plant.jsonld | grep '^ni:///' > hashes.txt
echo "wrote $(wc -l < hashes.txt) hashes to $here/hashes.txt"
