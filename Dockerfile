# syntax=docker/dockerfile:1.7
# Multi-stage build of the task service: one image for every role (api, worker, all) and the CLI.
# Node 22 pinned to the patch release CI tests on (package.json engines: >=22.12); its npm 11
# honours package.json allowScripts, so only the install scripts listed there run.
ARG NODE_IMAGE=node:22.23.5-bookworm-slim

# --- compile TypeScript to dist/ (swc through nest build), with every dependency
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.check.json nest-cli.json .swcrc ./
COPY src ./src
RUN npm run build

# --- the production dependencies alone, installed from the lockfile (not pruned from the dev
# install: a pruned tree keeps what the dev tree resolved, a fresh one proves package.json right).
# test/deploy-production-install.e2e-spec.ts boots dist/ on exactly this install.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# --- runtime: no compiler, no sources, an unprivileged user, a writable data volume
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
RUN mkdir -p /data && chown node:node /data
COPY --chown=node:node package.json ./package.json
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
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
