# syntax=docker/dockerfile:1
#
# Build:  docker build -t skiff .
# Run:    docker run --rm -p 9092:9092 -e SKIFF_ADVERTISED_LISTENERS=localhost:9092 skiff
# (or `docker compose up`, see docker-compose.yml)

# ---- build ------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src
# The whole source tree (minus .dockerignore): the manifest names test and
# vendored paths that must exist even though only the binary is built.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin skiff \
    && install -m 0755 target/release/skiff /usr/local/bin/skiff

# ---- runtime ----------------------------------------------------------------
FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 skiff \
    && useradd --system --uid 10001 --gid skiff --home-dir /var/lib/skiff \
       --no-create-home --shell /usr/sbin/nologin skiff \
    && mkdir -p /var/lib/skiff /etc/skiff \
    && chown skiff:skiff /var/lib/skiff
COPY --from=builder /usr/local/bin/skiff /usr/local/bin/skiff
COPY configs/skiff.toml /etc/skiff/skiff.toml
USER skiff:skiff
EXPOSE 9092 8081
VOLUME ["/var/lib/skiff"]
# SIGTERM (docker stop) is a graceful shutdown that flushes every partition.
STOPSIGNAL SIGTERM
ENTRYPOINT ["skiff"]
CMD ["--listeners", "0.0.0.0:9092", "--data-dir", "/var/lib/skiff"]
