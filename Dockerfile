# syntax=docker/dockerfile:1
# celerybeat-operator container image. The runtime stage holds package.json, package-lock.json, the
# compiled dist/, crds/ and production dependencies only; test/integration/container/ assembles the same
# file set from the COPY lines below and runs the operator from it.

# Compile TypeScript with the full (dev) toolchain.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY crds ./crds
RUN npm run build && chmod 0755 dist/cli/main.js

# Production dependencies only, without install scripts.
FROM node:24-bookworm-slim AS deps
WORKDIR /deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
# tini as PID 1 forwards SIGTERM to the operator (which then stops dispatching, flushes status and
# releases its Lease) and reaps zombies.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/package-lock.json ./package-lock.json
COPY --from=deps /deps/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/crds ./crds
RUN ln -s /app/dist/cli/main.js /usr/local/bin/celerybeat-operator
# Numeric, so Kubernetes can check runAsNonRoot; nothing under /app is writable by it, which suits a
# read-only root filesystem.
USER 1000:1000
EXPOSE 8080 8081
ENTRYPOINT ["/usr/bin/tini", "--", "celerybeat-operator"]
CMD ["run"]
