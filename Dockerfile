# syntax=docker/dockerfile:1
# Build: docker build -t fluxdiff .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/fluxdiff ./cmd/fluxdiff

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/fluxdiff /usr/local/bin/fluxdiff
USER 65532:65532
WORKDIR /var/lib/fluxdiff
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/fluxdiff"]
CMD ["serve"]
