# syntax=docker/dockerfile:1.7
# Multi-stage build of the task service: one image for every role (api, worker, all) and the CLI.

# --- dependencies, with the lockfile's exact versions (npm 11 honours package.json allowScripts)
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN npm install -g npm@11 --no-audit --no-fund
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

# --- compile TypeScript to dist/ (swc through nest build), then drop dev dependencies
FROM deps AS build
COPY tsconfig.json tsconfig.check.json nest-cli.json .swcrc ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: no compiler, no sources, an unprivileged user, a writable data volume
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
RUN mkdir -p /data && chown node:node /data
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER node
VOLUME ["/data"]
EXPOSE 3000
# For plain Docker; Kubernetes uses its own probes on the same route.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node is PID 1 and handles SIGTERM itself (readiness off, workers drain, exit 0).
# Other roles: `node dist/main.js --role worker --queues file_tasks`; the CLI: `node dist/cli.js inspect active`.
CMD ["node", "dist/main.js"]
