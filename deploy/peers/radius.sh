#!/usr/bin/env bash
# FreeRADIUS's client tools for the transmitter's fax-ATA tests: `radclient` plays the FaxBack port
# server, sending Access-Requests and Accounting-Requests to our RADIUS server.
#
#   radius.sh install   apt-installs freeradius-utils if radclient is missing
#
# Idempotent and quiet when it is already there. Only the client tools are installed: the
# FreeRADIUS server itself is not needed (the transmitter is the RADIUS server).
set -euo pipefail

log() { printf 'setup: %s\n' "$*" >&2; }
[ "${1:-install}" = install ] || exit 0

if command -v radclient >/dev/null 2>&1; then exit 0; fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { log "radclient is not installed (run as root to install freeradius-utils)"; exit 1; }
  sudo="sudo"
fi
log "installing freeradius-utils"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or absent on a fresh machine: install, and on failure refresh once.
if ! $sudo apt-get install -y -qq --no-install-recommends freeradius-utils >/dev/null 2>&1; then
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends freeradius-utils >/dev/null
fi
command -v radclient >/dev/null 2>&1 || { log "radius: radclient is still missing after installing freeradius-utils"; exit 1; }
