"""Starting Ray the one way archlab's stages need it (tune@ trials, cv@ folds, learning-curve trainings)."""

from __future__ import annotations

import logging
import os


def ensure_ray(local: bool = False) -> bool:
    """Start Ray unless this process already has it; returns whether this call started it.

    `RAY_ADDRESS` set (and not `local`): join that cluster. Otherwise start a Ray of our own on this machine
    ("local", not `None`: `None` joins whatever cluster /tmp/ray/ray_current_cluster names, e.g. another job's,
    whose owner may stop it mid-run), capped at `ARCHLAB_RAY_CPUS` CPUs when set (the benchmark's one-at-a-time
    baseline), with its workers at the stage's own priority: Ray's default worker niceness of 15 starves them
    whenever anything else runs. `local`: for jobs that write files on this machine (train@'s seeds).
    """
    import ray

    if ray.is_initialized():
        return False
    address = None if local else os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    else:
        cpus = os.environ.get("ARCHLAB_RAY_CPUS")
        ray.init(address="local", num_cpus=int(cpus) if cpus else None, include_dashboard=False,
                 logging_level=logging.WARNING, log_to_driver=False, _system_config={"worker_niceness": 0})
    return True
