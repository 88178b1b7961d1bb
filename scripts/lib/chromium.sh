# shellcheck shell=bash
# Sourced by scripts/test. Browser tests drive Debian's Chromium through
# playwright-core: Playwright's own browser download cannot be fetched here,
# so the browser comes from apt and only the JS library from npm.

# shellcheck source=scripts/lib/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

ensure_chromium() {
    if [ ! -x /usr/bin/chromium ]; then
        echo "keydesk: installing Chromium (Debian package)..." >&2
        keydesk_apt_install chromium chromium-driver || return 1
    fi
    export KEYDESK_CHROMIUM=/usr/bin/chromium
}

# npm ci in tests/browser when node_modules is missing or older than the lock
# file (i.e. the lock changed since the last install). Run from the repo root.
ensure_node_deps() {
    local dir=tests/browser
    if ! command -v npm >/dev/null; then
        echo "keydesk: npm not found; browser tests need Node.js >= 20 and npm" >&2
        return 1
    fi
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || return 1
        touch "$dir/node_modules"   # npm ci may keep an old dir mtime
    fi
}
