# Switchyard's image: the API, the worker and the one-shot jobs (migrations, the CLI) run from it,
# each with its own command (docker-compose.yml, deploy/k8s/). Two stages:
#   build    every dependency (npm ci), the TypeScript build (dist/) and the console (dist/console);
#   runtime  production dependencies only (npm ci --omit=dev), the compiled code the processes run,
#            the migrations they apply; no sources, tests, compilers or dev tools; a non-root user.
# test/unit/deploy-files.test.ts checks those properties; the build itself needs a Docker engine:
#   docker build -t switchyard:local .
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# The lockfile first: the dependency layer is reused until it changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY api ./api
COPY activities ./activities
COPY bench ./bench
COPY cli ./cli
COPY client ./client
COPY contracts ./contracts
COPY db ./db
COPY lib ./lib
COPY providers ./providers
COPY scripts ./scripts
COPY test ./test
COPY workers ./workers
COPY workflows ./workflows
COPY console ./console
# tsconfig.json compiles the tests too (they share types with the code); only what runs is copied on.
RUN npx tsc -p tsconfig.json && npx vite build console --logLevel warn

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only (their install scripts fetch nothing: @swc/core picks its bundled
# platform package); the npm cache is not kept in the layer.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# What the processes run: the API, the worker (it bundles dist/workflows at start), the migrations
# (dist/scripts/prepare.js reads db/migrations), the CLI (bin/), the console's static files.
COPY --from=build /app/dist/api ./dist/api
COPY --from=build /app/dist/activities ./dist/activities
COPY --from=build /app/dist/cli ./dist/cli
COPY --from=build /app/dist/client ./dist/client
COPY --from=build /app/dist/contracts ./dist/contracts
COPY --from=build /app/dist/db ./dist/db
COPY --from=build /app/dist/lib ./dist/lib
COPY --from=build /app/dist/providers ./dist/providers
COPY --from=build /app/dist/scripts ./dist/scripts
COPY --from=build /app/dist/workers ./dist/workers
COPY --from=build /app/dist/workflows ./dist/workflows
COPY --from=build /app/dist/console ./dist/console
COPY db/migrations ./db/migrations
COPY bin ./bin
# The node image's unprivileged user (uid 1000), numeric so that Kubernetes' runAsNonRoot can
# verify it. The files above stay root's: the processes read them and write nothing here.
USER 1000:1000
# API (PORT), API metrics, worker metrics with /healthz /readyz /startupz, Temporal SDK metrics.
EXPOSE 3000 9463 9464 9465
# The API by default; the worker is `node dist/workers/main.js`, the migrations
# `node dist/scripts/prepare.js --database-only`. Both processes stop gracefully on SIGTERM.
CMD ["node", "dist/api/server.js"]
