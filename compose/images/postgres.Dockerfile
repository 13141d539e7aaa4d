# PostgreSQL 15 from Debian's packages on the base built by scripts/containers. Honours
# POSTGRES_USER and POSTGRES_PASSWORD (default postgres/postgres) like the official image.
FROM local/debian:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/*
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
