# lakehealer from a binary built on this machine (the build context holds `lakehealer`), on the
# base built by scripts/containers: the local stack's healer where no Rust image can be pulled.
FROM local/debian:bookworm
COPY lakehealer /usr/local/bin/lakehealer
ENTRYPOINT ["lakehealer"]
