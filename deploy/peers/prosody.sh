#!/usr/bin/env bash
# Prosody (Debian's XMPP server) for the Jabber notice tests. The tests start their own Prosody
# per suite (services/notifier/src/channels/xmpp/testing/prosody.ts) with a config, data folder
# and port of their own, so this only installs the package and makes sure no system-wide instance
# holds port 5222.
#
#   prosody.sh install   apt-installs prosody, lua-unbound and lua-event if missing
#
# Idempotent and quiet when everything is already there.
set -euo pipefail

log() { printf 'setup: %s\n' "$*" >&2; }
die() { log "prosody: $*"; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Stops the service the Debian package starts on installation: a system instance on 5222 would
# answer where a test expects nothing, and keeps state outside the tests' temporary folders.
stop_system_service() {
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    if systemctl is-enabled --quiet prosody 2>/dev/null; then systemctl disable --quiet prosody 2>/dev/null || true; fi
    if systemctl is-active --quiet prosody 2>/dev/null; then systemctl stop prosody 2>/dev/null || true; fi
  else
    # No systemd (a container): the package's init script may have started it with its own pid file.
    if [ -f /run/prosody/prosody.pid ] && kill -0 "$(cat /run/prosody/prosody.pid)" 2>/dev/null; then
      if command -v service >/dev/null 2>&1; then service prosody stop >/dev/null 2>&1 || true; fi
      if [ -f /run/prosody/prosody.pid ] && kill -0 "$(cat /run/prosody/prosody.pid)" 2>/dev/null; then
        kill "$(cat /run/prosody/prosody.pid)" 2>/dev/null || true
      fi
    fi
    if command -v update-rc.d >/dev/null 2>&1 && ls /etc/rc2.d/S*prosody >/dev/null 2>&1; then
      update-rc.d prosody disable >/dev/null 2>&1 || true
    fi
  fi
}

install_packages() {
  local missing=() pkg
  for pkg in prosody lua-unbound lua-event; do installed "$pkg" || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      command -v sudo >/dev/null 2>&1 || die "missing Debian packages: ${missing[*]} (run as root to install them)"
      exec sudo bash "$0" install
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be stale or absent on a fresh machine: install, and on failure refresh once.
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
  fi
  id prosody >/dev/null 2>&1 || die "the prosody package did not create the prosody user"
  if [ "$(id -u)" = 0 ]; then stop_system_service; fi
}

case "${1:-}" in
  install) install_packages ;;
  *) die "usage: $0 install" ;;
esac
