# `reconcile run` as a container: a venv at /opt/venv, git + CA certificates + ssh for the git source, user
# 10001, probes and metrics on :8080, nothing written outside the mounted volumes (read-only root in a pod).
#
#   make container                                   # podman or docker, tag avd-reconciler:dev
#   docker build -t avd-reconciler .                 # on python:3.11-slim (the default BASE)
#   podman build --build-arg BASE=localhost/avd-base:bookworm -t avd-reconciler .   # any Debian with python3 ≥ 3.11
#
# BASE is any Debian-family image with python3 ≥ 3.11 and its venv module: the public python:3.11-slim
# (python in /usr/local) or a Debian bookworm rootfs with python3 + python3-venv (python in /usr; what
# scripts/container-smoke.sh builds with mmdebstrap, offline from any registry). Every stage uses the same BASE,
# so the venv's interpreter link resolves in the final image. git, openssh-client and ca-certificates are
# installed with apt only when the base lacks them (python:3.11-slim lacks git and ssh; the smoke test's base
# already has all three, so its build needs no apt at all).
# Behind a TLS-inspecting proxy, pip needs that proxy's CA: `make container` lends the host's $PIP_CERT bundle
# to the build as the secret `pip_cert` (docker/podman build --secret id=pip_cert,src=FILE). It is mounted only
# while pip runs, never copied into a layer, so the image trusts exactly the base's CA certificates.
ARG BASE=python:3.11-slim

# Few instructions on purpose: with podman's vfs driver (CI) every step is a full copy and diff of the rootfs.
# The runtime dependencies, read from pyproject.toml into requirements.txt: the pip layer is keyed on that
# file alone, so a change to reconciler/ or to the test extra reuses it.
FROM ${BASE} AS requirements
COPY pyproject.toml /src/
RUN python3 -c 'import tomllib; print("\n".join(tomllib.load(open("/src/pyproject.toml", "rb"))["project"]["dependencies"]))' \
      > /src/requirements.txt

FROM ${BASE} AS build
COPY --from=requirements /src/requirements.txt /src/
RUN --mount=type=secret,id=pip_cert,required=false \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi \
 && export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
 && python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --quiet -r /src/requirements.txt
# The context is exactly pyproject.toml, README.md and reconciler/ (.dockerignore is an allowlist).
COPY . /src/
RUN --mount=type=secret,id=pip_cert,required=false \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi \
 && export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
 && /opt/venv/bin/pip install --quiet --no-deps /src \
 && /opt/venv/bin/pip uninstall --quiet --yes pip \
 && /opt/venv/bin/reconcile --help >/dev/null

FROM ${BASE}
# No useradd in a minbase rootfs: the user is two lines. HOME is a volume in a pod (ssh writes known_hosts).
RUN set -eu; \
    if ! command -v git >/dev/null || ! command -v ssh >/dev/null || [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then \
      apt-get update; \
      apt-get install -y --no-install-recommends git openssh-client ca-certificates; \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    git --version; \
    echo 'reconciler:x:10001:10001:avd-reconciler:/home/reconciler:/usr/sbin/nologin' >> /etc/passwd; \
    echo 'reconciler:x:10001:' >> /etc/group; \
    mkdir -p /home/reconciler /work /desired; \
    chown 10001:10001 /home/reconciler /work
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH HOME=/home/reconciler PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /home/reconciler
ENTRYPOINT ["reconcile", "run"]
# Probes and metrics on :8080 (EXPOSE left out: documentation only, and one rootfs diff less on vfs).
CMD ["--desired", "/desired", "--listen", "0.0.0.0:8080"]
