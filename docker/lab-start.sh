#!/bin/sh
# Starts JupyterLab in the lab container. It listens on all of the container's interfaces (the
# compose file publishes it on the host's loopback only) and always asks for a token: the one in
# JUPYTER_TOKEN, or, when that is unset or empty, a random one that Jupyter prints in its log
# (`docker compose logs lab`). An empty token would otherwise mean no login at all.
set -eu
if [ -z "${JUPYTER_TOKEN:-}" ]; then
    unset JUPYTER_TOKEN
fi
# The interface language: LAB_LANG (compose passes the host's), else the container's locale.
language=$(/lab/kernel-setup/lab-language)
exec /lab/.venv/bin/jupyter lab --ip=0.0.0.0 --port=8888 --no-browser \
    --ServerApp.root_dir=/lab/notebooks \
    --LabApp.app_settings_dir="/lab/kernel-setup/jupyterlab/$language" \
    --ServerApp.default_url="/lab/tree/student/$language/00-rust-for-this-lab.ipynb" "$@"
