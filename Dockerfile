# syntax=docker/dockerfile:1
# daxlite container image: built with the workspace's release profile (no debug info),
# run on distroless/cc (glibc, no shell, no package manager) as the non-root user.
# Not yet verified by a build: linted with hadolint in tests/tests/deploy.rs.
#   docker build -t daxlite --build-arg DAXLITE_GIT_COMMIT="$(git rev-parse --short HEAD)" .
#   docker run -p 8000:8000 -v daxlite-data:/data daxlite

FROM rust:1-bookworm AS build
WORKDIR /src
# .dockerignore keeps target/ and .git out; build.rs takes the commit from this instead.
ARG DAXLITE_GIT_COMMIT=unknown
ENV DAXLITE_GIT_COMMIT=${DAXLITE_GIT_COMMIT}
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p daxlite \
    && install -D -m 0755 target/release/daxlite /out/daxlite \
    && mkdir -p /out/data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/daxlite /usr/local/bin/daxlite
COPY --from=build --chown=65532:65532 /out/data /data
# Inside the container only: listen on every interface, keep the data in the volume.
# Flags and a --config file still override these.
ENV DAXLITE_HOST=0.0.0.0 \
    DAXLITE_DATA_DIR=/data
VOLUME ["/data"]
WORKDIR /data
USER 65532:65532
EXPOSE 8000
# distroless has no curl or shell: the binary probes its own /health.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/daxlite", "health", "--url", "http://127.0.0.1:8000/health"]
ENTRYPOINT ["/usr/local/bin/daxlite"]
