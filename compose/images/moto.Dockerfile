# moto's server on the Debian base built by scripts/containers (no image registry needed).
FROM local/debian:bookworm
ARG MOTO_VERSION=5.2.1
# The machine's CA certificates: pip reaches its index through them.
COPY ca-certificates/ /usr/local/share/ca-certificates/
RUN update-ca-certificates \
 && python3 -m venv /opt/moto \
 && /opt/moto/bin/pip install --no-cache-dir "moto[server]==${MOTO_VERSION}"
EXPOSE 5000
ENTRYPOINT ["/opt/moto/bin/moto_server", "-H", "0.0.0.0"]
CMD ["-p", "5000"]
