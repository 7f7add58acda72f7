# syntax=docker/dockerfile:1
# The connector's container image. Node 24 strips TypeScript types itself, so the image runs the sources
# as they are (no build step) with production dependencies only. It runs as a non-root user and needs no
# writable root filesystem: the Helm chart mounts an emptyDir on /tmp (Node's temp dir) and on
# /var/spool/onedrive-connector (connector.spoolDirectory, where blobs larger than memory allows go).
#   docker build -t onedrive-connector .
#   docker run --read-only --tmpfs /tmp -v "$PWD/config.yaml:/etc/onedrive-connector/config.yaml:ro" onedrive-connector

ARG NODE_IMAGE=node:24-bookworm-slim

# --- Stage 1: production dependencies only (devDependencies never enter the image) ---
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency runs install scripts; none of ours needs one (the test
# test/integration/deploy/dockerfile.test.ts runs this same command, then the entrypoint, on the result).
# npm's download cache is a BuildKit cache mount: it speeds up rebuilds and never enters a layer.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- Stage 2: the runtime ---
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    TMPDIR=/tmp
WORKDIR /app
# Owned by root and read-only to the runtime user: the process cannot rewrite its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY src ./src
# The node user (uid/gid 1000) of the official image; numeric so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 9464 9465
ENTRYPOINT ["node", "bin/onedrive-connector.js"]
CMD ["run", "--config", "/etc/onedrive-connector/config.yaml"]
