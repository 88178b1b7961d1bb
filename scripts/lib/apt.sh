# shellcheck shell=bash
# Sourced by postgres.sh and chromium.sh: install Debian packages without
# prompts and without letting their maintainer scripts start daemons (we start
# what we need ourselves, in the way the tests expect).

# keydesk_apt_install PKG... — installs the packages; needs root.
keydesk_apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "keydesk: need root to apt-get install $*" >&2
        return 1
    fi
    # Only refresh the package lists when one of the packages has no install
    # candidate (fresh machine with empty lists): apt-get update is slow.
    # (No grep -q: quitting early can SIGPIPE apt-cache, failing under pipefail.)
    local pkg
    for pkg in "$@"; do
        if ! apt-cache policy "$pkg" 2>/dev/null | grep 'Candidate: [^(]' >/dev/null; then
            apt-get update -qq >/dev/null
            break
        fi
    done

    # policy-rc.d exiting 101 tells invoke-rc.d "do not start services".
    # Leave an existing one (e.g. Docker's) alone; remove only our own.
    local own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        own_policy=1
    fi

    # Keep the (long) apt/dpkg output out of the way unless something fails.
    local rc=0 log
    log=$(mktemp)
    {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" || {
            # Stale lists give 404s on download: refresh once and retry.
            apt-get update -q &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
        }
    } >"$log" 2>&1 || rc=$?

    if [ "$own_policy" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    if [ "$rc" -ne 0 ]; then
        cat "$log" >&2
        echo "keydesk: apt-get install $* failed (exit $rc)" >&2
    fi
    rm -f "$log"
    return "$rc"
}
