# What the harness tags docker.io/library/postgres:15 where no registry is
# reachable (deploy/test/images.ts): Debian's PostgreSQL 15 on the debootstrap
# base, with an entrypoint that does what deploy/ uses of the official one
# (POSTGRES_PASSWORD, PGDATA, /docker-entrypoint-initdb.d/*.sql and *.sh,
# `docker-entrypoint.sh postgres`).
ARG BASE=localhost/convos-pool-debian:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && mkdir -p /docker-entrypoint-initdb.d /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY docker-entrypoint.sh /usr/local/bin/
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
