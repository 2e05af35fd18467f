# Fuze: one image, every service. `docker run fuze serve` runs them all in one process;
# `serve --services gateway` (etc.) runs one, as docker-compose.yml does.
# CI runs both stages' scripts without a Docker engine: scripts/check-container-build.sh.

# ---- build: install from the lockfile, build, pack the fuze binary (fuze-cli.tgz) ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV CI=true TURBO_TELEMETRY_DISABLED=1 NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false
COPY . .
RUN bash scripts/container-build.sh /out

# ---- runtime: the packed binary installed globally, as any user of it installs it; non-root ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    FUZE_DATA_DIR=/data \
    FUZE_HOST=0.0.0.0 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY --from=build /out/fuze-cli.tgz /tmp/fuze-cli.tgz
COPY scripts/container-install.sh /tmp/container-install.sh
RUN bash /tmp/container-install.sh /tmp/fuze-cli.tgz \
  && rm /tmp/fuze-cli.tgz /tmp/container-install.sh \
  && mkdir -p /data && chown node:node /data
# The `node` user (uid 1000) comes with the base image; /data holds the embedded database and state.
USER node
WORKDIR /data
VOLUME ["/data"]
# gateway, admin, metrics/health
EXPOSE 8080 8081 9464
ENTRYPOINT ["fuze"]
CMD ["serve"]
