#!/usr/bin/env bash
# The deployment test's body, run by tests/it/deploy.rs inside a private mount namespace as root:
# README's service steps word for word (the blocks marked `<!-- deploy: tested -->`), then
# each person's first day, with no --db and no environment of theirs.
#
#   plant.sh BIN REPO
set -euo pipefail
bin=$1 repo=$2
work=$(mktemp -d /tmp/lotline-deploy.XXXXXX)
# The private copies go when this namespace ends (the mounts over them go with it).
trap 'umount /etc 2>/dev/null; rm -rf "$work"' EXIT

# What the steps change is private to this namespace: users and config (/etc), the program
# (/usr/local/bin), the plant's folders, /run, and the people's homes.
mkdir -p "$work/etc"
cp -a /etc/. "$work/etc/"
mount --bind "$work/etc" /etc
for d in /usr/local/bin /var/lib /var/backups /run /home; do
    mkdir -p "$d"
    mount -t tmpfs -o mode=0755 tmpfs "$d"
done
# This namespace's own processes only (pgrep below must not see other tests' servers).
mount -t proc proc /proc

# The people: a clerk, QA, and a local user who is not on the floor.
for u in cory quinn eve; do useradd --create-home --shell /bin/bash "$u"; done

# A checkout as the steps expect it: packaging/ and the built program.
mkdir -p "$work/repo/target/release" "$work/shim"
cp -a "$repo/packaging" "$work/repo/"
# install.sh ships GS1's syntax dictionary and its licence from the source tree too.
mkdir -p "$work/repo/crates/domain/src/scan"
cp -a "$repo/crates/domain/src/scan/gs1" "$work/repo/crates/domain/src/scan/"
cp "$bin" "$work/repo/target/release/lotline"
cp "$repo/tests/deploy/systemctl" "$work/shim/systemctl"

# README's tested blocks, in order, as one script.
awk '
    /<!-- deploy: tested -->/ { want = 1; next }
    want && /^ *```sh$/ { inblock = 1; want = 0; next }
    inblock && /^ *```$/ { inblock = 0; print ""; next }
    inblock { sub(/^   /, ""); print }
' "$repo/README.md" >"$work/steps.sh"
echo "--- README's steps:"
cat "$work/steps.sh"
grep -q 'packaging/install.sh' "$work/steps.sh"
grep -q 'systemctl enable --now lotline' "$work/steps.sh"
echo "--- running them"
(cd "$work/repo" && env -i PATH="$work/shim:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/root \
    bash -euo pipefail "$work/steps.sh")

# The unit as shipped reads as systemd reads it (no systemd runs here to start it).
if command -v systemd-analyze >/dev/null; then
    echo "--- systemd-analyze verify"
    out=$(systemd-analyze verify --man=no /etc/systemd/system/lotline.service 2>&1) ||
        { echo "$out"; echo "FAILED: systemd-analyze refuses the unit" >&2; exit 1; }
    [ -z "$out" ] || { echo "$out"; echo "FAILED: systemd-analyze warns about the unit" >&2; exit 1; }
fi

# The service is started and stopped as README's steps did.
export PATH="$work/shim:/usr/local/bin:$PATH"
fail() { echo "FAILED: $*" >&2; echo "--- server journal:" >&2; cat /run/fake-systemd/journal >&2 || true; exit 1; }
# A person runs lotline as they would after logging in: their own user, their own (empty)
# environment, no --db.
as() {
    local who=$1; shift
    (cd / && runuser -u "$who" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="/home/$who" "$@")
}
expect_fail() {
    local code=$1 text=$2; shift 2
    local out rc=0
    out=$("$@" 2>&1) || rc=$?
    echo "$out"
    [ "$rc" = "$code" ] || fail "$* exited $rc, wanted $code"
    grep -qF -- "$text" <<<"$out" || fail "$* did not say: $text"
}

echo "--- the clerk receives"
lot=$(as cory lotline receive --item FLOUR --supplier MILL --supplier-lot ML-1 --qty 25)
echo "$lot"
[ -n "$lot" ] || fail "no lot code printed"
echo "--- QA holds it"
as quinn lotline hold "$lot" --reason "lab check"
echo "--- the clerk may not release it"
expect_fail 77 "needs QA" as cory lotline release "$lot" --reason "looks fine"
echo "--- the outsider is refused at the socket and cannot read the file"
expect_fail 77 "not in the plant's group" as eve lotline lots
expect_fail 1 "Permission denied" as eve cat /var/lib/lotline/plant.redb
echo "--- modes"
stat -c '%a %U %n' /var/lib/lotline /var/lib/lotline/plant.redb /run/lotline/lotline.sock
[ "$(stat -c %a /var/lib/lotline/plant.redb)" = 600 ] || fail "the database is not 0600"
[ "$(stat -c %a /var/lib/lotline)" = 700 ] || fail "the database's folder is not 0700"
[ "$(stat -c %G /run/lotline/lotline.sock)" = lotline-floor ] || fail "the socket is not the floor's"
echo "--- doctor, as the clerk"
as cory lotline doctor
echo "--- doctor, as root: the service answers and root simply has no role there"
lotline doctor
echo "--- the plant's roles are the plant's: a clerk's own demo plant is theirs"
as cory lotline demo | grep -q "Demo plant:" || fail "the clerk's demo did not build"
echo "--- the audit names each person"
audit=$(as quinn lotline audit)
echo "$audit"
grep -q cory <<<"$audit" || fail "the audit does not name cory"
grep -q quinn <<<"$audit" || fail "the audit does not name quinn"
echo "--- the station is named without any setup: the host (no terminal, no SSH here)"
host=$(cat /proc/sys/kernel/hostname)
as cory lotline lot "$lot" | grep -qF "cory@$host" || fail "the lot's history does not name cory@$host"

echo "--- doctor tells the outsider what IT must do"
expect_fail 1 "usermod -aG lotline-floor eve" as eve lotline doctor

echo "--- the service stopped: nobody starts a server of their own"
systemctl stop lotline
expect_fail 75 "Ask IT to start it" lotline receive --item FLOUR --supplier MILL --supplier-lot ML-2 --qty 1
expect_fail 75 "Ask IT to start it" as cory lotline receive --item FLOUR --supplier MILL --supplier-lot ML-3 --qty 1
if pgrep -f "lotline serve" >/dev/null; then fail "a server was left running"; fi
echo "--- root cannot serve the service's file"
expect_fail 77 "belongs to lotline" lotline serve
echo "--- and the service comes back"
systemctl start lotline
as cory lotline lots --json | grep -q "$lot" || fail "the lot is not there after the restart"
systemctl stop lotline

echo "--- doctor names each piece of a broken install, with its fix"
chmod 0644 /var/lib/lotline/plant.redb
chmod 0755 /var/lib/lotline
rm -r /var/backups/lotline
printf 'qa = [\n' >>/etc/lotline/roles.toml
out=$(lotline doctor 2>&1) && fail "doctor found nothing wrong"
echo "$out"
for fix in "chmod 600 /var/lib/lotline/plant.redb" "chmod 700 /var/lib/lotline" \
    "install -d -o lotline -g lotline -m 0700 /var/backups/lotline" "line 5, column" \
    "systemctl start lotline"; do
    grep -qF -- "$fix" <<<"$out" || fail "doctor did not say: $fix"
done
echo "DEPLOYMENT OK"
