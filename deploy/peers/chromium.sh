#!/usr/bin/env bash
# Chromium (Debian's package) for the status tracker's browser tests: playwright-core drives it
# headless through `executablePath: /usr/bin/chromium`, so no browser build is ever downloaded.
#
#   chromium.sh install   apt-installs chromium if /usr/bin/chromium is missing
#
# Idempotent and quiet when it is already there.
set -euo pipefail

log() { printf 'setup: %s\n' "$*" >&2; }
[ "${1:-install}" = install ] || exit 0

if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then log "chromium is not installed (run as root to install it)"; exit 1; fi
log "installing chromium"
DEBIAN_FRONTEND=noninteractive apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
[ -x /usr/bin/chromium ] || { log "chromium: /usr/bin/chromium is still missing after installing"; exit 1; }
