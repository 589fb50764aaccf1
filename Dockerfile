# syntax=docker/dockerfile:1
#
# One image for every Agora process. The command picks the process:
#   gateway (default)   nameko run --config config.yaml gateway.service
#   a service           nameko run --config config.yaml services.<name>.service
#   migrations          python -m services.common.migrate
#   web site            python -m web   (uvicorn on WEB_HOST:WEB_PORT, 0.0.0.0:8080 in the image)
#
# Build: docker build -t agora:local .   (BuildKit, the default builder of Docker 23+)

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------
# assets: the web site's front-end libraries, from npm with web/package-lock.json
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS assets

WORKDIR /web
COPY web/package.json web/package-lock.json ./
# Runtime libraries only (htmx, Leaflet); axe-core is for the browser tests.
RUN npm ci --omit=dev --no-audit --no-fund

# ---------------------------------------------------------------------------
# builder: compiles wheels for the project and every dependency
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# The compilers exist only in this stage; Debian's stable build-essential needs no pin.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src

# Dependencies first, from pyproject.toml alone, so that a source change does not rebuild them.
COPY pyproject.toml ./
# The platform's dependencies and the web site's (the `web` extra).
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['web']))" > requirements.txt \
    && pip wheel --wheel-dir /wheels -r requirements.txt

# Then the project itself.
COPY services ./services
COPY gateway ./gateway
COPY web ./web
RUN pip wheel --no-deps --wheel-dir /wheels .

# ---------------------------------------------------------------------------
# runtime: no compilers, no build tools, runs as an unprivileged user
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    HOME=/tmp \
    GATEWAY_PORT=8000 \
    OPS_PORT=9100 \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8080 \
    WEB_NODE_MODULES=/app/node_modules

# cairo draws the PNG downloads of the web site's charts (cairosvg); a shared library, no build tools.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libcairo2 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 agora \
    && useradd --system --uid 10001 --gid agora --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin agora

# The wheels are mounted from the builder for the install only: they never become a layer.
# pip compiles the bytecode at install time, so a read-only root filesystem costs nothing.
# The versions are those the builder resolved, installed from its wheels only (--no-index).
# hadolint ignore=DL3013
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels 'agora[web]'

WORKDIR /app
COPY config.yaml ./config.yaml
COPY --from=assets /web/node_modules ./node_modules

USER 10001:10001

EXPOSE 8000 8080 9100

# Exec form: nameko receives SIGTERM itself and stops its entrypoints gracefully.
CMD ["nameko", "run", "--config", "config.yaml", "gateway.service"]
