# Vigil operator image. Build from the repository root:
#   docker build -t ghcr.io/vigil-dev/vigil:0.1.0 .
# Both stages use the same pinned base, so the venv's interpreter path (/usr/local/bin/python3)
# is valid in the final stage too.

# --- builder: install vigil and its runtime dependencies into a venv without pip ------------
FROM python:3.11.14-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
RUN python -m venv --without-pip /opt/vigil

# The dependencies first, exactly as requirements/runtime.lock pins them (versions and hashes: a
# rebuild installs the same bytes), in a layer of their own that a code change does not rebuild;
# then vigil itself, which adds nothing the lock did not pin (--no-deps).
# `pip --python` installs into the venv, so the final image carries no pip.
COPY requirements/runtime.lock requirements/
RUN pip --python /opt/vigil/bin/python install --no-cache-dir --require-hashes -r requirements/runtime.lock
COPY pyproject.toml ./
COPY operator/ operator/
RUN pip --python /opt/vigil/bin/python install --no-cache-dir --no-deps . \
    && /opt/vigil/bin/python -c "import vigil"

# --- final: the interpreter from the base image plus the venv, nothing else -----------------
FROM python:3.11.14-slim-bookworm

LABEL org.opencontainers.image.title="vigil" \
      org.opencontainers.image.description="Kubernetes operator that keeps an AWS Organization's logging baseline true" \
      org.opencontainers.image.source="https://github.com/vigil-dev/vigil" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/vigil/bin:${PATH}"

COPY --from=builder /opt/vigil /opt/vigil

# A fixed numeric UID/GID (no passwd entry needed) so Kubernetes can verify runAsNonRoot.
USER 65532:65532
EXPOSE 8080

ENTRYPOINT ["vigil"]
CMD ["run", "--all-namespaces", "--standalone"]
