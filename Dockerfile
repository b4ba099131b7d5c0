# One image for all four services: the build stage builds every app, and APP picks the one that
# runs (docs/decisions/0005-deployment.md). Build it with, for example:
#   docker build --target runtime --build-arg APP=dimse-worker -t pacslink:dev .
# and run another service from the same image by overriding the APP environment variable. The migrate
# Job runs the same image with the command `node dist/apps/<app>/main.js migrate`
# (docs/operations/database.md).

# Node 22 LTS (README: supported versions), pinned by digest so that a rebuild gets the same base
# until the pin is moved on purpose. This digest is node:22.23.3-bookworm-slim's as public Dockerfiles
# pin it (found for both node:22-bookworm-slim and node:22.23.3-bookworm-slim); it was not pulled from
# this machine, which has no registry access. To move it (for a Node or Debian security release):
#   docker buildx imagetools inspect node:22-bookworm-slim     # "Digest:" of the multi-arch index
# and put the new version and digest here; .ci/run's static step fails on a base image without one.
ARG NODE_IMAGE=node:22.23.3-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NX_DAEMON=false \
    NX_NO_CLOUD=true
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node and reaps children, so stop and rollout are prompt even
# before the app's own shutdown hooks are registered.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The image owns the store's mount point so that a fresh named volume inherits the ownership of the
# non-root user (Docker copies it on first mount).
RUN mkdir -p /var/lib/pacslink/store && chown 1000:1000 /var/lib/pacslink/store

ARG APP=config-service
RUN test -f "dist/apps/${APP}/main.js" \
    || { echo "APP=${APP}: no dist/apps/${APP}/main.js; use one of: $(ls dist/apps)" >&2; exit 1; }
# Production by default: the services then refuse to start without SECRETS_KEY and API_KEYS rather
# than run with auth off. docker-compose.yml and the dev overlay set NODE_ENV=development.
ENV APP=${APP} \
    NODE_ENV=production \
    STORE_DIR=/var/lib/pacslink/store

# Numeric, so that Kubernetes' runAsNonRoot can verify it without a runAsUser (uid 1000 = node).
USER 1000:1000
EXPOSE 3000 3001 3002 3003 11112

# Slim has no curl: node's own fetch checks the app's default port, or HTTP_PORT when set.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "-e", "const p=process.env.HTTP_PORT||{'config-service':3000,'dimse-worker':3001,'dicomweb-worker':3002,'mwl-mpps-service':3003}[process.env.APP];fetch('http://127.0.0.1:'+p+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["sh", "-c", "exec node \"dist/apps/${APP}/main.js\""]
