# The lab itself: JupyterLab with the evcxr Rust kernel, the notebooks, and evcxr's dependency
# cache already warm, so the first cell of a notebook takes seconds, not minutes.
#   docker build -f docker/lab.Dockerfile -t tracing-lab .    (context: the repository root;
#   building compiles evcxr and the notebooks' crates; natively, evcxr alone took about 7 minutes
#   on 2 cores)

# Pinned by digest, like the service's image (see docker/Dockerfile on updating it).
FROM rust:1.95-slim-bookworm@sha256:d7482085ff5b415f84dba5647ae71606650bdef00db7aeb69f4b3d170c3e4082

# Python for JupyterLab, and patch for evcxr's sources (kernel-setup/evcxr-0.22.0.patch); versions
# pinned to Debian bookworm's.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3=3.11.2-1+b1 python3-venv=3.11.2-1+b1 patch=2.7.6-7+deb12u1 \
    && rm -rf /var/lib/apt/lists/*

# A plain user owns the lab; cargo and evcxr keep their caches in its home.
RUN useradd --create-home --uid 1000 --shell /usr/sbin/nologin lab \
    && mkdir /lab && chown lab:lab /lab
USER 1000:1000
ENV CARGO_HOME=/home/lab/.cargo \
    PATH=/home/lab/.cargo/bin:/usr/local/cargo/bin:$PATH
WORKDIR /lab

# The setup script and what it reads first, so that the evcxr build is cached in its own layer.
COPY --chown=lab:lab kernel-setup kernel-setup
COPY --chown=lab:lab Cargo.toml Cargo.lock ./
COPY --chown=lab:lab tracelab tracelab
COPY --chown=lab:lab sample-service sample-service
COPY --chown=lab:lab notebooks/solved notebooks/solved
COPY --chown=lab:lab notebooks/student notebooks/student
COPY --chown=lab:lab notebooks/nbgrader_config.py notebooks/nbgrader_evcxr.py notebooks/nbgrader_stubs.py notebooks/
COPY --chown=lab:lab docker/lab-start.sh docker/lab-start.sh
RUN kernel-setup/setup.sh

# Inside the compose network the notebooks reach Jaeger by its service name.
ENV OTEL_EXPORTER_OTLP_ENDPOINT=http://jaeger:4318 \
    JAEGER_QUERY_URL=http://jaeger:16686
EXPOSE 8888
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/lab/.venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8888/api', timeout=4)"]
ENTRYPOINT ["/lab/docker/lab-start.sh"]
