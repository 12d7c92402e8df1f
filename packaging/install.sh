#!/bin/sh
# Install lotline's server on a systemd machine, or upgrade it: the program, the unit, the
# service user and floor group, the plant's folders, and (only where none exist yet) the
# config and roles files. Run as root from the repository:
#
#     packaging/install.sh target/release/lotline
#
# Safe to run again for an upgrade: the program is replaced whole (written under a new name,
# then renamed over the old one, so a running server keeps its copy until it restarts), and
# an existing config or roles file is never overwritten. Then `systemctl restart lotline`.
set -eu
bin=${1:?usage: packaging/install.sh PATH-TO-lotline}
here=$(dirname "$0")
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
[ -x "$bin" ] || { echo "install.sh: $bin is not an executable lotline" >&2; exit 1; }
# A new file beside the old, renamed over it: `lotline` is never missing or half-copied for a
# clerk who starts it meanwhile, and a running server keeps its own copy until it restarts.
install -d -m 0755 /usr/local/bin
install -m 0755 "$bin" /usr/local/bin/.lotline.new
mv -f /usr/local/bin/.lotline.new /usr/local/bin/lotline
# The program carries a table generated from GS1's Barcode Syntax Dictionary (Apache
# License 2.0): the dictionary, with its copyright notice, and the licence go with it.
gs1="$here/../crates/domain/src/scan/gs1"
install -D -m 0644 "$gs1/LICENSE" /usr/local/share/doc/lotline/gs1-syntax-dictionary/LICENSE
install -D -m 0644 "$gs1/gs1-syntax-dictionary.txt" \
    /usr/local/share/doc/lotline/gs1-syntax-dictionary/gs1-syntax-dictionary.txt
install -D -m 0644 "$here/lotline.service" /etc/systemd/system/lotline.service
install -D -m 0644 "$here/lotline.sysusers" /etc/sysusers.d/lotline.conf
install -D -m 0644 "$here/lotline.tmpfiles" /etc/tmpfiles.d/lotline.conf
install -d -m 0755 /etc/lotline
for f in lotline.toml roles.toml; do
    if [ -e "/etc/lotline/$f" ]; then
        echo "install.sh: kept the existing /etc/lotline/$f"
    else
        install -m 0644 "$here/$f" "/etc/lotline/$f"
    fi
done
systemd-sysusers /etc/sysusers.d/lotline.conf
systemd-tmpfiles --create /etc/tmpfiles.d/lotline.conf
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
fi
echo "install.sh: installed $(/usr/local/bin/lotline --version)"
