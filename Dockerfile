# `reconcile run` as a container: slim Python, git for the source, a non-root user, probes on :8080.
#   docker build -t avd-reconciler .
#   docker run --rm -p 8080:8080 -e AZURE_STORAGE_CONNECTION_STRING=... avd-reconciler \
#     --git-url https://github.com/org/estate.git --state blob:reconciler-state
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY reconciler ./reconciler
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
# git and ssh: the controller clones desired state itself (HTTPS token or SSH key from a mounted secret).
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /install /usr/local
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin reconciler
USER 10001:10001
WORKDIR /home/reconciler
ENV PYTHONUNBUFFERED=1 HOME=/home/reconciler
EXPOSE 8080
ENTRYPOINT ["reconcile", "run"]
CMD ["--desired", "/desired", "--listen", "0.0.0.0:8080"]
