#!/usr/bin/env bash
# The Dockerfile's runtime stage: installs the packed fuze binary globally, as any user of the
# tarball does (npm install -g), under $2 (default: npm's global prefix).
set -euo pipefail
tarball=${1:?usage: container-install.sh <fuze-cli.tgz> [prefix]}
prefix=${2:-}
npm install -g --no-audit --no-fund ${prefix:+--prefix "$prefix"} "$tarball"
npm cache clean --force 2>/dev/null
