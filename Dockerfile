# ssogate's container image: docker build -t ssogate . (or podman build
# --format docker -t ssogate ., so that the HEALTHCHECK is kept: the OCI
# format has no field for it).
#
#   docker build --build-arg VERSION=v0.1.0 -t ssogate:v0.1.0 .
#   docker run -p 8080:8080 -v ssogate-data:/data ssogate:v0.1.0 serve
#
# The final stage is FROM scratch: the static binary, the CA bundle and an
# empty /data owned by the numeric non-root user 65532 (no /etc/passwd, no
# shell). .ci/run builds that stage's text, unchanged, from a locally built
# binary (these machines reach no image registry), and inspects the result.

ARG GO_IMAGE=golang:1.26-bookworm

FROM ${GO_IMAGE} AS build
ARG VERSION=devel
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The layout below is exactly what the final stage copies: /rootfs/… lands at
# /… in the image.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
		-o /rootfs/usr/local/bin/ssogate ./cmd/ssogate \
	&& mkdir -p /rootfs/etc/ssl/certs /rootfs/data \
	&& cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ca-certificates.crt

# --- final stage: .ci/run builds from here to the end of the file ---
FROM scratch AS image
ARG VERSION=devel
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="ssogate" \
	org.opencontainers.image.description="Open SSO gateway for embedded apps: OpenID Connect login, Livefyre-compatible tokens, Ping for Pull gateway and hub" \
	org.opencontainers.image.url="https://github.com/ssogate/ssogate" \
	org.opencontainers.image.source="https://github.com/ssogate/ssogate" \
	org.opencontainers.image.documentation="https://github.com/ssogate/ssogate#readme" \
	org.opencontainers.image.vendor="The ssogate Authors" \
	org.opencontainers.image.licenses="Apache-2.0" \
	org.opencontainers.image.version="${VERSION}" \
	org.opencontainers.image.revision="${REVISION}" \
	org.opencontainers.image.created="${CREATED}"
COPY --from=build /rootfs/etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /rootfs/usr/local/bin/ssogate /usr/local/bin/ssogate
COPY --from=build --chown=65532:65532 /rootfs/data /data
ENV SSOGATE_DATA_DIR=/data \
	SSOGATE_LISTEN=0.0.0.0:8080 \
	SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# ssogate probes itself: the image has no shell and no curl. The URL follows
# SSOGATE_LISTEN's port; change both together.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
	CMD ["/usr/local/bin/ssogate", "healthcheck", "--url", "http://127.0.0.1:8080/healthz", "--timeout", "3s"]
ENTRYPOINT ["/usr/local/bin/ssogate"]
CMD ["serve"]
