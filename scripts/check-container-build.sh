#!/usr/bin/env bash
# Runs the Dockerfile's steps without a Docker engine (none runs here, and base images cannot be
# pulled): the build stage on a copy of the build context (the committed files, less
# .dockerignore's), the runtime stage's install into a prefix of its own, then, as an unprivileged
# user like the image's `node`, `fuze serve --services gateway` (embedded PGlite, a nats-server of
# its own) until /readyz answers 200. Prints one line; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d /tmp/fuze-container.XXXXXX)
server= nats=
cleanup() {
  # `wait` answers a killed process's 143: that is the expected end, not a failure of the check.
  for pid in $server $nats; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "container check: FAILED: $*" >&2; [[ -f "$tmp/log" ]] && tail -n 30 "$tmp/log" >&2; exit 1; }

# The build context: what `git archive` holds (a clean clone's files), less .dockerignore's patterns.
mkdir -p "$tmp/context"
git archive HEAD | tar -x -C "$tmp/context"
(cd "$tmp/context" && rm -rf .git .ci .dockerignore Dockerfile docker-compose.yml infra)
(cd "$tmp/context" && CI=true bash scripts/container-build.sh "$tmp/out") >"$tmp/log" 2>&1 || fail "the build stage"
bash scripts/container-install.sh "$tmp/out/fuze-cli.tgz" "$tmp/runtime" >>"$tmp/log" 2>&1 || fail "the runtime install"

# As the image does: a non-root user, FUZE_DATA_DIR=/data (here: a directory that user owns).
user=nobody
mkdir -p "$tmp/data" && chown "$user" "$tmp/data" && chmod o+rx "$tmp"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
gateway=$(port) metrics=$(port) natsport=$(port)
nats_bin=$(command -v nats-server || echo /usr/sbin/nats-server)
"$nats_bin" -js -a 127.0.0.1 -p "$natsport" -sd "$tmp/nats" >>"$tmp/nats.log" 2>&1 &
nats=$!
runuser -u "$user" -- env -i PATH="$PATH" HOME="$tmp/data" FUZE_DATA_DIR="$tmp/data" \
  FUZE_NATS_URL="nats://127.0.0.1:$natsport" FUZE_GATEWAY_PORT="$gateway" FUZE_METRICS_PORT="$metrics" \
  "$tmp/runtime/bin/fuze" serve --services gateway >>"$tmp/log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
  if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics/readyz")" == 200 ]]; then
    echo "container check: the build and runtime stages succeed; fuze serve --services gateway runs as $user"
    exit 0
  fi
  kill -0 "$server" 2>/dev/null || fail "fuze serve --services gateway exited"
  sleep 1
done
fail "fuze serve --services gateway was not ready within 120 s"
