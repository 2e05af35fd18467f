# Fuze: one image, every service. `docker run fuze serve` runs them all in one process;
# `serve --services gateway` (etc.) runs one, as docker-compose.yml does.

# ---- build: install every dependency, compile the workspaces, then drop the dev dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV CI=true TURBO_TELEMETRY_DISABLED=1 NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false
COPY . .
RUN npm ci --no-audit \
  && npm run build \
  && npm prune --omit=dev --no-audit \
  && rm -rf test bench docs .turbo node_modules/.cache

# ---- runtime: compiled workspaces and production dependencies only, as a non-root user ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    FUZE_DATA_DIR=/data \
    FUZE_HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages ./packages
COPY --from=build /app/services ./services
COPY --from=build /app/schemas ./schemas
# The `node` user (uid 1000) comes with the base image; /data holds the embedded database and state.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# gateway, admin, metrics/health
EXPOSE 8080 8081 9464
ENTRYPOINT ["node", "packages/cli/dist/bin.js"]
CMD ["serve"]
