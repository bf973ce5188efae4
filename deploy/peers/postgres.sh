#!/usr/bin/env bash
# PostgreSQL on 127.0.0.1:5432 with trust authentication for local connections, so the tests can
# prove the PostgreSQL path of the one query layer (SQLite stays the default everywhere else).
set -euo pipefail
log() { printf 'setup: %s\n' "$*" >&2; }
[ "${1:-install}" = install ] || exit 0

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ready; then exit 0; fi

if ! command -v pg_ctlcluster >/dev/null; then
  if [ "$(id -u)" != 0 ]; then log "PostgreSQL is not installed (run as root to install it)"; exit 1; fi
  log "installing postgresql"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -V | tail -1)
conf=/etc/postgresql/$version/main
# Local test peer: trust on loopback only.
if ! grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"; then
  sed -i '1i host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf"
fi
log "starting PostgreSQL $version"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster --skip-systemctl-redirect "$version" main restart
for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
log "PostgreSQL did not start"; exit 1
