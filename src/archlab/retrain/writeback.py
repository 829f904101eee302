"""Write-back: a retrain that changed anything leaves its state where the next fresh runner finds it.

The DVC outputs and run cache go to the DVC remote (`dvc_state.push`, done by the job after every repro); this
module commits what git carries (dvc.lock, params.yaml, the import .dvc files, the `cache: false` outputs:
metrics, plots, reports, and the job's own report) and pushes the commit. By default the commit goes to a new
branch `retrain/<job id>`, built from HEAD with a temporary index so the workspace's checkout does not change;
`--commit-to-current` commits on the current branch instead, which makes the next scheduled run start from it.
A job that changed nothing commits nothing. A refused push fails the job, with git's own words.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path

from archlab import dvc_state
from archlab.errors import ArchlabError

log = logging.getLogger(__name__)
BRANCH_PREFIX = "retrain/"


class WriteBackFailed(ArchlabError):
    """git could not commit or push the retrain's state; the registry decision stands, the report says so."""

    exit_code = 1


def _git(args: list[str], root: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise WriteBackFailed(f"`git {' '.join(args)}` exited {proc.returncode} in {root}: "
                              f"{(proc.stderr or proc.stdout).strip()}")
    return proc.stdout.strip()


def state_paths(root: Path, report_files: list[Path]) -> list[str]:
    """What git carries of a retrain's state, as paths relative to `root` (only those that exist)."""
    candidates = ["dvc.lock", "params.yaml", *map(str, dvc_state.import_files(root)),
                  *dvc_state.git_tracked_outputs(root), *(str(p.resolve().relative_to(root.resolve()))
                                                           for p in report_files)]
    return sorted({path for path in candidates if (root / path).exists()})


def write_back(root: Path, job_id: str, report_files: list[Path], *, changed_anything: bool, to_current: bool,
               remote: str = "origin") -> dict:
    """Commit the retrain's state and push it; returns {"committed", "branch", "commit", "files"}.

    Args:
        changed_anything: the job ran a stage or fetched new imported data. Judged from the job, not from a diff
            against HEAD: after a write-back to `retrain/<job>` the workspace differs from HEAD without any change.

    Raises:
        WriteBackFailed: not a git checkout, no `remote`, or the commit or push was refused.
    """
    if not changed_anything:
        log.info("write-back: no stage ran and no import changed; no commit")
        return {"committed": False, "reason": "nothing changed (no stage ran, no new imported data)", "files": []}
    paths = state_paths(root, report_files)
    head = _git(["rev-parse", "HEAD"], root)
    with tempfile.TemporaryDirectory() as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        _git(["read-tree", "HEAD"], root, index)
        _git(["add", "--force", "--", *paths], root, index)  # --force: reports/ may be in .gitignore elsewhere
        changed = _git(["diff", "--cached", "--name-only", "HEAD"], root, index).splitlines()
        # the job's own report always differs; only a change beyond it is worth a commit
        reports = {str(p.resolve().relative_to(root.resolve())) for p in report_files}
        if not set(changed) - reports:
            log.info("write-back: nothing changed since %s; no commit", head[:12])
            return {"committed": False, "reason": "nothing changed", "files": []}
        tree = _git(["write-tree"], root, index)
    message = f"archlab retrain {job_id}: {len(changed)} file(s) of pipeline state\n\n" + "\n".join(changed)
    commit = _git(["commit-tree", tree, "-p", head, "-m", message], root)
    if to_current:
        branch = _git(["symbolic-ref", "--short", "HEAD"], root)
        _git(["update-ref", f"refs/heads/{branch}", commit, head], root)
        _git(["reset", "--quiet"], root)  # the index follows the new commit; the files already match it
    else:
        branch = f"{BRANCH_PREFIX}{job_id}"
        _git(["update-ref", f"refs/heads/{branch}", commit], root)
    _git(["push", remote, f"refs/heads/{branch}:refs/heads/{branch}"], root)
    log.info("write-back: %s on %s pushed to %s (%d files)", commit[:12], branch, remote, len(changed))
    return {"committed": True, "branch": branch, "commit": commit, "files": changed, "remote": remote}
