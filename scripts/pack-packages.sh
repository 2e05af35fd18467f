#!/usr/bin/env bash
# Packs what an application installs, @fuze/sdk and @fuze/cli, into .packages/ (or $1) under
# version-free names, fuze-sdk.tgz and fuze-cli.tgz, which the examples' package.json files name.
# Builds them first (turbo: a no-op when nothing changed).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-.packages}" && cd "${1:-.packages}" && pwd)
npx turbo run build --filter=@fuze/sdk --filter=@fuze/cli --output-logs=errors-only >/dev/null
for workspace in sdk cli; do
  tarball=$(npm pack -w "@fuze/$workspace" --pack-destination "$out" --silent | tail -n 1)
  mv "$out/$tarball" "$out/fuze-$workspace.tgz"
  echo "$out/fuze-$workspace.tgz"
done
