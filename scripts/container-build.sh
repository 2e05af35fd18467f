#!/usr/bin/env bash
# The Dockerfile's build stage, as a script so that CI runs the very same steps in a clean copy
# (scripts/check-container-build.sh: no Docker engine runs there). Installs from the lockfile,
# builds, and packs the fuze binary into $1 as fuze-cli.tgz, which the runtime stage installs.
set -euo pipefail
out=${1:?usage: container-build.sh <output dir>}
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
bash scripts/pack-packages.sh "$out" >/dev/null
rm -f "$out/fuze-sdk.tgz"
echo "container build: $out/fuze-cli.tgz"
