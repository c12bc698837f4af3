# syntax=docker/dockerfile:1.12
# One image definition for every Microbank service and both runtimes:
#   docker buildx build --build-arg SERVICE=accounts --target node .   (Node.js 24, the default)
#   docker buildx build --build-arg SERVICE=accounts --target deno .   (Deno 2, same code)
# The image runs as uid 10001 with a read-only root filesystem (Kubernetes mounts /tmp and
# DATA_DIR=/data as emptyDirs). No HEALTHCHECK: Kubernetes probes /health/* instead.
# The entrypoint is the runtime; the command is the program, so the same image runs the service
# (default) and its migrations (`service/src/migrate.ts`, the Argo CD PreSync Job).

ARG NODE_VERSION=24.21.0
ARG DENO_VERSION=2.9.5
ARG TURBO_VERSION=2.11.9

# --- prune: only the service's workspace and the workspaces it depends on -----------------
FROM node:${NODE_VERSION}-slim AS prune
ARG SERVICE
ARG TURBO_VERSION
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<service>" >&2; exit 1; }
WORKDIR /repo
COPY . .
RUN npx --yes "turbo@${TURBO_VERSION}" prune "@microbank/${SERVICE}" --docker

# --- build: install with the lockfile, build what needs building, drop dev dependencies ---
FROM node:${NODE_VERSION}-slim AS build
ARG SERVICE
ARG TURBO_VERSION
WORKDIR /repo
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY --from=prune /repo/out/json/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts
COPY --from=prune /repo/out/full/ ./
# root files turbo prune does not carry: Deno's config (node_modules mode) and the shared tsconfig
COPY deno.json tsconfig.base.json ./
RUN npx --no-install turbo run build --filter="@microbank/${SERVICE}..." \
 && npm prune --omit=dev --ignore-scripts \
 && rm -rf packages/*/test packages/*/bench .turbo \
 && ln -s "packages/${SERVICE}" service

# --- node: the default image --------------------------------------------------------------
FROM node:${NODE_VERSION}-slim AS node
ARG SERVICE
ENV NODE_ENV=production PORT=8080 DATA_DIR=/data SERVICE=${SERVICE}
WORKDIR /app
# files stay owned by root: the service can read its code, never change it
COPY --from=build /repo /app
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["node"]
CMD ["service/src/main.ts"]

# --- deno: the same service on Deno 2 -----------------------------------------------------
FROM denoland/deno:debian-${DENO_VERSION} AS deno
ARG SERVICE
ENV PORT=8080 DATA_DIR=/data SERVICE=${SERVICE} DENO_DIR=/deno-dir DENO_NO_UPDATE_CHECK=1
WORKDIR /app
COPY --from=build /repo /app
# type-check-free cache warm-up at build time, so a read-only root filesystem is enough at run time
RUN deno cache service/src/main.ts service/src/migrate.ts && chmod -R a+rX /deno-dir
USER 10001:10001
EXPOSE 8080
# least privilege, as in stack mode (packages/microbank/src/Stack.ts, denoPermissions)
ENTRYPOINT ["deno", "run", "--allow-net", "--allow-env", "--allow-read=/app", "--allow-sys=hostname"]
CMD ["service/src/main.ts"]
