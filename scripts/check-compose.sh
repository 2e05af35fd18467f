#!/usr/bin/env bash
# Validates docker-compose.yml (syntax, anchors, interpolation) without a Docker engine.
# Prints one line; exits non-zero if the file is invalid. docker-compose: `apt-get install docker-compose`.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v docker-compose >/dev/null; then
  compose=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  echo "compose check: FAILED: neither docker-compose nor the docker compose plugin is installed" >&2
  exit 1
fi

if errors=$("${compose[@]}" -f docker-compose.yml config -q 2>&1); then
  echo "compose check: docker-compose.yml is valid (${compose[*]})"
else
  echo "compose check: FAILED: docker-compose.yml is invalid: ${errors}" >&2
  exit 1
fi
