# The Prometheus pushgateway from Debian's packages on the base built by scripts/containers.
FROM local/debian:bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus-pushgateway \
 && rm -rf /var/lib/apt/lists/*
EXPOSE 9091
ENTRYPOINT ["/usr/bin/prometheus-pushgateway"]
