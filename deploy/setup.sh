#!/usr/bin/env bash
# Installs and starts what faxnotify's demo and tests need on Debian 12 (run as root):
# npm dependencies, RabbitMQ with its management API, and the peers of each feature.
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then log "missing Debian packages: ${missing[*]} (run as root to install them)"; return 1; fi
  if [ $apt_updated = 0 ]; then log "apt-get update"; DEBIAN_FRONTEND=noninteractive apt-get update -qq; apt_updated=1; fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
export -f apt_install log
export apt_updated

# npm dependencies (a fresh clone, or a lock file newer than the install).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm install"
  npm install --no-audit --no-fund --loglevel=error
fi

bash deploy/peers/rabbitmq.sh
for peer in deploy/peers/*.sh; do
  case "$peer" in */rabbitmq.sh) ;; *) bash "$peer" install ;; esac
done

# The transmitter turns office documents and text (DOC, DOCX, RTF, TXT, XLS, XLSX) into PDF with LibreOffice, headless.
apt_install libreoffice-writer-nogui libreoffice-calc-nogui

# The status tracker embeds DejaVu Sans in the fax confirmation report (PDF); its tests read the report back with pdftotext.
apt_install fonts-dejavu-core poppler-utils
