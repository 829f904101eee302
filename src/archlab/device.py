"""Backend and device plumbing, kept out of model code: which backend, which device, seeds, precision policy.

Model code uses `keras`/`keras.ops` only; the few backend-specific calls needed for reproducibility and device
discovery live here, each behind a check of `keras.backend.backend()`.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def use_onednn_kernels() -> None:
    """Ask TensorFlow for its oneDNN CPU kernels unless the user chose (`TF_ENABLE_ONEDNN_OPTS`); call before
    TensorFlow is imported.

    TensorFlow turns them on by itself only on CPUs with AVX-512 features; on the 2-core AVX2 machines archlab runs
    on, its own kernels compute a convolution's input gradient at small spatial sizes 4x slower (finetune's phase
    two: 1.48 s a step without, 0.31 s with). Runs stay repeatable: same seed, same metrics (tested).
    """
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def _gpu_names(backend: str) -> list[str]:
    if backend == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax

        return [str(d) for d in jax.devices() if d.platform == "gpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def prepare(seed: int, *, mixed_precision: bool = False) -> dict[str, str]:
    """Seed every generator, make CPU runs repeatable, set the precision policy; describe the device.

    Returns:
        {"backend": ..., "device": "GPU (name)" or "CPU", "precision": policy name}, logged as MLflow tags.
    """
    import keras

    backend = keras.backend.backend()
    keras.utils.set_random_seed(seed)
    if backend == "tensorflow":
        import tensorflow as tf

        # Same seed, same metrics on a CPU re-run: TF otherwise picks non-deterministic kernels.
        tf.config.experimental.enable_op_determinism()
    gpus = _gpu_names(backend)
    policy = "mixed_float16" if mixed_precision else "float32"
    keras.mixed_precision.set_global_policy(policy)
    info = {"backend": backend, "device": f"GPU ({', '.join(gpus)})" if gpus else "CPU", "precision": policy}
    log.info("training on %s with the %s backend, %s precision", info["device"], backend, policy)
    return info


def prepare_classical(seed: int) -> dict[str, str]:
    """Seed Python and NumPy for a scikit-learn architecture, without importing Keras.

    Importing Keras (and with it TensorFlow) costs ~4 s, longer than the baseline trains; a classical stage does
    not pay it.

    Returns:
        The same keys as `prepare`: {"backend": "scikit-learn", "device": "CPU", "precision": "float64"}.
    """
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    return {"backend": "scikit-learn", "device": "CPU", "precision": "float64"}
