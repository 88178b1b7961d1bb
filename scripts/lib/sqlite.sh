# shellcheck shell=bash
# Sourced by scripts/test: the sqlite3 command line, with which the backup test opens a
# backup as an operator would.

# shellcheck source=scripts/lib/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

# ensure_sqlite3 — installs Debian's sqlite3 when it is missing.
ensure_sqlite3() {
    command -v sqlite3 >/dev/null && return 0
    echo "keydesk: installing sqlite3 (Debian package)..." >&2
    keydesk_apt_install sqlite3
}
