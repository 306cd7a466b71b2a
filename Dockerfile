# syntax=docker/dockerfile:1
#
# fluxdiff's image: one static binary on distroless "static" (CA
# certificates, time zone data, /etc/passwd with the user nonroot 65532; no
# shell, no package manager). It runs with a read-only root file system:
# everything it writes goes to the volume /var/lib/fluxdiff/data (the SQLite
# store and the source cache; ./data relative to the working directory) and,
# for temporary files, /tmp (mount an emptyDir there too).
#
#   docker build --build-arg VERSION=v1.2.3 -t fluxdiff .
#   docker run --read-only --tmpfs /tmp -v fluxdiff-data:/var/lib/fluxdiff/data \
#     -p 8080:8080 fluxdiff serve
#
# Multi-platform: docker buildx build --platform linux/amd64,linux/arm64 .
# (the binary is cross-compiled on the build machine's platform).

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=devel
ARG TARGETOS TARGETARCH
# CGO_ENABLED=0: a static binary (SQLite is pure Go), so no libc is needed.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/fluxdiff ./cmd/fluxdiff
# The data folder, owned by the runtime user, so that a fresh volume mounted
# on it (docker copies the ownership) or the image itself is writable.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.source=https://github.com/fluxdiff/fluxdiff \
      org.opencontainers.image.description="fluxdiff: what merging a pull request would change in each Flux cluster"
COPY --from=build /out/fluxdiff /usr/local/bin/fluxdiff
COPY --from=build --chown=65532:65532 /out/data /var/lib/fluxdiff/data
USER 65532:65532
# The defaults store.url (sqlite://./data/fluxdiff.db) and source.dir
# (./data/sources) are relative to this folder; deploy/base sets the same
# workingDir.
WORKDIR /var/lib/fluxdiff
VOLUME ["/var/lib/fluxdiff/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/fluxdiff"]
CMD ["serve"]
