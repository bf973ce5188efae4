#!/usr/bin/env bash
# RabbitMQ on 127.0.0.1:5672 (guest/guest) with the management API on :15672, which the tests
# use to make a virtual host per test file and to export definitions.
set -euo pipefail
log() { printf 'setup: %s\n' "$*" >&2; }

if ! command -v rabbitmq-server >/dev/null; then
  if [ "$(id -u)" != 0 ]; then log "RabbitMQ is not installed (run as root to install it)"; exit 1; fi
  log "installing rabbitmq-server"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null
  mkdir -p /etc/rabbitmq
  [ -f /etc/rabbitmq/rabbitmq-env.conf ] || printf 'NODENAME=rabbit@localhost\nNODE_IP_ADDRESS=127.0.0.1\n' > /etc/rabbitmq/rabbitmq-env.conf
fi

if ! rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
  log "starting RabbitMQ"
  rabbitmq-plugins enable --offline rabbitmq_management >/dev/null
  rabbitmq-server -detached
  pidfile=$(ls /var/lib/rabbitmq/mnesia/*.pid 2>/dev/null | head -1 || true)
  for _ in $(seq 1 90); do
    rabbitmq-diagnostics -q ping >/dev/null 2>&1 && break
    sleep 1
  done
  rabbitmq-diagnostics -q ping >/dev/null 2>&1 || { log "RabbitMQ did not start"; exit 1; }
  [ -n "$pidfile" ] || true
fi

if ! curl -sf -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1; then
  log "enabling the RabbitMQ management API"
  rabbitmq-plugins enable rabbitmq_management >/dev/null
  for _ in $(seq 1 60); do
    curl -sf -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null 2>&1 && break
    sleep 1
  done
  curl -sf -u guest:guest http://127.0.0.1:15672/api/overview >/dev/null || { log "RabbitMQ management API did not come up"; exit 1; }
fi
