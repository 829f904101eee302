#!/usr/bin/env bash
# `make setup` / `make setup-dev`: install archlab and its pinned stack into a virtual environment.
#   scripts/install.sh VENV PIP_ARGS...      e.g. scripts/install.sh .venv -e .   or   ... -e '.[dev]'
# uv (pinned in requirements/constraints.txt) installs exactly the versions pip would, from the same constraints,
# but unpacks wheels and compiles bytecode in parallel: the pipeline's stack took 32 s with uv against 70 s with
# pip on a 2-core machine, most of a fresh clone's first `make run` set-up. Bytecode is compiled at install time
# on purpose: with PYTHONDONTWRITEBYTECODE set (CI images often set it) nothing would cache it later, and every
# stage process would pay ~9 s more to import the stack (15 s against 6 s, measured). uv reads no pip.conf: where
# it cannot install (no index it can reach, an index only pip.conf names), pip installs instead, after saying why.
set -euo pipefail
venv=${1:?usage: install.sh VENV PIP_ARGS...}
shift
python=$venv/bin/python
constraints=requirements/constraints.txt
if [ -x "$venv/bin/uv" ] || "$python" -m pip install --quiet -c "$constraints" uv; then
  if "$venv/bin/uv" pip install --python "$python" --quiet --compile-bytecode -c "$constraints" "$@"; then
    exit 0
  fi
  echo "install.sh: uv could not install '$*' (its message is above); installing with pip instead" >&2
else
  echo "install.sh: could not install uv; installing with pip instead" >&2
fi
"$python" -m pip install --quiet --upgrade pip
"$python" -m pip install --quiet -c "$constraints" "$@"
