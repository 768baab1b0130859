# syntax=docker/dockerfile:1
#
# One image for every Cipherslip process: `cipherslip api | vault | scheduler | migrate | …`
# (the entrypoint is `cipherslip`; the container's command picks the process).
#
#   docker build -t cipherslip .                        # production: runtime dependencies only
#   docker build -t cipherslip --build-arg DEV_TOOLS=yes .
#                                                       # + the development OpenID provider
#                                                       #   (`cipherslip dev-idp`) and SMTP sink
#                                                       #   (`cipherslip mail-sink`), as
#                                                       #   docker-compose.yml builds it
#
# Nothing secret is built in: every setting, token and credential arrives as an environment
# variable when a container starts (docs/DEPLOYMENT.md). .dockerignore keeps the build context
# to the files copied below.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim
# "no" (default) or "yes": see the python-deps-* stages below.
ARG DEV_TOOLS=no

# --- browser bundles (esbuild) ---------------------------------------------------------------
FROM ${NODE_IMAGE} AS web-bundles
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/build.mjs ./
COPY web/js ./js
RUN node build.mjs

# --- Python packages, in a virtual environment copied whole into the runtime image -----------
FROM ${PYTHON_IMAGE} AS python-deps
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/cipherslip
WORKDIR /src
# The formats (cipherslip_crypto) come with the CLI's distribution, which the server needs.
COPY client ./client
RUN /opt/cipherslip/bin/pip install ./client
COPY pyproject.toml ./
COPY core ./core
COPY api ./api
COPY http_layer ./http_layer
COPY vault ./vault
COPY web ./web
COPY bot ./bot
COPY scheduler ./scheduler
COPY cli ./cli
# The bundles are package data of `web`: they must be in place before the install.
COPY --from=web-bundles /src/web/static/dist ./web/static/dist
# The project and its runtime dependencies only: never the `dev` extra (linters, test tools).
RUN /opt/cipherslip/bin/pip install . \
 && cd / && /opt/cipherslip/bin/python -c "import importlib.resources as r; \
assert (r.files('web') / 'static/dist/cipherslip-crypto.js').is_file(), 'bundles missing'"

FROM python-deps AS python-deps-no

# Development servers only, for docker-compose.yml: the OpenID provider behind
# `cipherslip dev-idp` and the SMTP sink behind `cipherslip mail-sink`. The versions are the
# ones of pyproject.toml's `dev` extra (tests/deploy/test_compose.py keeps them in step).
FROM python-deps AS python-deps-yes
RUN /opt/cipherslip/bin/pip install "oidc-provider-mock>=0.3" "aiosmtpd>=1.4"

FROM python-deps-${DEV_TOOLS} AS selected-deps

# --- runtime -------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="Cipherslip" \
      org.opencontainers.image.description="Share secrets without any server seeing the plaintext"
ENV PATH=/opt/cipherslip/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# A fixed unprivileged uid/gid (no login shell), so volumes and orchestrator policies
# (runAsNonRoot, runAsUser) can name it.
RUN groupadd --system --gid 10001 cipherslip \
 && useradd --system --uid 10001 --gid cipherslip --home-dir /var/lib/cipherslip \
        --no-create-home --shell /usr/sbin/nologin cipherslip \
 && install -d -o cipherslip -g cipherslip -m 0700 /var/lib/cipherslip
COPY --from=selected-deps /opt/cipherslip /opt/cipherslip
WORKDIR /var/lib/cipherslip
USER 10001:10001
# api+web, vault (the vault port must stay internal: publish only the api's).
EXPOSE 8000 8100
ENTRYPOINT ["cipherslip"]
CMD ["--help"]
