#!/usr/bin/env bash
# Writes deploy/.env with fresh random credentials for deploy/compose.yaml (RabbitMQ and PostgreSQL
# passwords, the JWT secret, the status tracker's secrets key). Refuses to overwrite an existing
# file, which holds the credentials the running data already uses. The file stays out of git.
set -euo pipefail
cd "$(dirname "$0")"
if [ -e .env ]; then
  echo "deploy/.env exists; remove it first to generate new credentials" >&2
  exit 1
fi
rand() { openssl rand -hex "$1"; }
umask 077
cat > .env <<ENV
RABBITMQ_USER=faxnotify
RABBITMQ_PASSWORD=$(rand 24)
POSTGRES_USER=faxnotify
POSTGRES_PASSWORD=$(rand 24)
JWT_SECRET=$(rand 32)
STATUS_TRACKER_SECRETS_KEY=$(openssl rand -base64 32)
ENV
echo "wrote deploy/.env (set SMTP_HOST there or in the environment before docker compose up)" >&2
