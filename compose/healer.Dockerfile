# lakehealer for the local stack (compose/docker-compose.yml builds it from the repository root).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p lakehealer

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/lakehealer /usr/local/bin/lakehealer
ENTRYPOINT ["lakehealer"]
