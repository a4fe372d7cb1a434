# Builds the `commons` server. Used by docker-compose.yml; see README.md.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p commons-api \
 && cp target/release/commons /usr/local/bin/commons

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /data --uid 10001 commons \
 && mkdir -p /data && chown commons /data
COPY --from=build /usr/local/bin/commons /usr/local/bin/commons
USER commons
ENV COMMONS_LISTEN=0.0.0.0:8080 \
    COMMONS_DATA_DIR=/data \
    COMMONS_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["commons"]
CMD ["serve"]
