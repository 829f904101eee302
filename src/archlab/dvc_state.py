"""The pipeline's state outside one machine: a DVC remote (outputs and the run cache) and DVC imports (new data).

A fresh CI runner has the git checkout and nothing else. With a default remote in the project's `.dvc/config`,
`dvc pull --run-cache` brings back every output and stage run, so `dvc repro` trains nothing that was trained
before; `push` after every successful repro keeps it so. Data that lands somewhere else (a shared folder, a
bucket prefix) comes in as a `dvc import-url`; `update_imports` fetches what landed since the import was recorded.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from archlab.errors import ArchlabError

log = logging.getLogger(__name__)
REMOTE_NAME = "archlab"
S3_SCHEMES = ("s3://",)


class DvcFailed(ArchlabError):
    """A DVC command the job relies on (push, update) failed; the message carries its output."""

    exit_code = 1


def path_with_this_python() -> str:
    """PATH with this interpreter's bin folder first, so `dvc` and the stages' `python` are the same install
    (`.venv/bin/archlab` works without an activated venv)."""
    import os
    import sys

    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def _dvc(args: list[str], root: Path, *, check: bool = True) -> subprocess.CompletedProcess:
    """Run this install's `dvc`."""
    import os

    env = {**os.environ, "PATH": path_with_this_python()}
    try:
        proc = subprocess.run(["dvc", *args], cwd=root, capture_output=True, text=True, env=env)
    except FileNotFoundError:
        raise DvcFailed("`dvc` was not found on PATH; run `make setup` and use .venv/bin/archlab") from None
    if check and proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip().splitlines()
        raise DvcFailed(f"`dvc {' '.join(args)}` exited {proc.returncode} in {root}:\n  " + "\n  ".join(output[-20:]))
    return proc


def add_remote(root: Path, url: str, name: str = REMOTE_NAME) -> str:
    """Make `url` the project's default DVC remote (in `.dvc/config`, committed with the project); returns it.

    A local path is stored absolute: DVC reads a relative one against `.dvc/`, which surprises. An `s3://` URL
    needs the `dvc-s3` plugin (`pip install 'archlab[s3]'`); credentials stay out of the committed config
    (`dvc remote modify --local`, or the runner's AWS_* variables).
    """
    if url.startswith(S3_SCHEMES):
        try:
            import dvc_s3  # noqa: F401 - only checks the plugin is installed
        except ImportError:
            raise ArchlabError(f"{url}: an S3 remote needs the dvc-s3 plugin; pip install 'archlab[s3]'") from None
    elif "://" not in url:
        path = Path(url).expanduser()
        url = str(path if path.is_absolute() else (Path.cwd() / path).resolve())
    _dvc(["remote", "add", "--default", "--force", name, url], root)
    log.info("DVC remote %s -> %s (default)", name, url)
    return url


def default_remote(root: Path) -> str | None:
    """The name of the project's default DVC remote, or None when there is none."""
    proc = _dvc(["remote", "default"], root, check=False)
    name = proc.stdout.strip()
    return name if proc.returncode == 0 and name else None


def push(root: Path) -> dict:
    """`dvc push --run-cache` to the default remote; a project without one is skipped (said, not an error)."""
    remote = default_remote(root)
    if remote is None:
        log.info("no DVC remote configured: outputs stay on this machine (archlab remote add PATH)")
        return {"pushed": False, "remote": None}
    proc = _dvc(["push", "--run-cache"], root)
    summary = (proc.stdout.strip().splitlines() or ["pushed"])[-1]
    log.info("dvc push --run-cache to %s: %s", remote, summary)
    return {"pushed": True, "remote": remote, "summary": summary}


def pull(root: Path) -> dict:
    """A fresh clone's state: `dvc pull --run-cache`, then every DVC import whose data is missing here.

    DVC neither pushes nor pulls imported data (it lives at its source), so an import that is not in the workspace
    is fetched with `dvc update`: the source as it is now. Outputs the remote lacks (nothing pushed yet, or a stage
    that never ran) are not an error: `dvc repro` runs those stages; what the remote had is not recomputed.
    """
    result: dict = {"remote": default_remote(root), "imports": []}
    if result["remote"] is not None:
        proc = _dvc(["pull", "--run-cache"], root, check=False)
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        result["complete"] = proc.returncode == 0
        if proc.returncode != 0:
            log.warning("dvc pull --run-cache: not everything was in the remote (dvc repro runs those stages):\n  %s",
                        "\n  ".join(lines[-12:]))
    for path, outs in _imports(root):
        if not all(out.exists() for out in outs):
            result["imports"].append(_update(root, path))  # fetched from its source
    return result


def _imports(root: Path) -> list[tuple[Path, list[Path]]]:
    """Each `dvc import-url` / `dvc import` file (relative to `root`) with its output paths."""
    from dvc.repo import Repo

    base = root.resolve()
    with Repo(str(root)) as repo:
        return sorted((Path(stage.path).relative_to(base), [Path(out.fs_path) for out in stage.outs])
                      for stage in repo.index.stages if stage.is_import)


def import_files(root: Path) -> list[Path]:
    """The project's `dvc import-url` / `dvc import` files (.dvc files whose stage is an import)."""
    return [path for path, _ in _imports(root)]


def _update(root: Path, path: Path) -> dict:
    """`dvc update` one import; returns its record: the .dvc file and whether the update changed it."""
    before = (root / path).read_text()
    _dvc(["update", str(path)], root)
    changed = (root / path).read_text() != before
    log.info("dvc update %s: %s", path, "newer than recorded" if changed else "as recorded")
    return {"file": str(path), "changed": changed}


def update_imports(root: Path) -> list[dict]:
    """`dvc update` every import, so files that landed at the source since the import reach this workspace."""
    return [_update(root, path) for path in import_files(root)]


def git_tracked_outputs(root: Path) -> list[str]:
    """Outputs dvc.yaml keeps out of the DVC cache (`cache: false`): metrics, plots, reports; git carries them."""
    from dvc.repo import Repo

    base = root.resolve()
    with Repo(str(root)) as repo:
        paths = {Path(out.fs_path).relative_to(base) for out in repo.index.outs if not out.use_cache}
    return sorted(str(path) for path in paths if (base / path).exists())
