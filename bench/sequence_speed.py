"""Section "sequence_speed": seconds per training epoch of `rnn`, `lstm` and `transformer` as the sequence grows.

Synthetic data (uniform noise, ten classes): N sequences of length L and width W, fed to the zoo's own builders as
(L, W, 1) "images" (rows are time steps), with the same batch size for all. The epoch time is the fastest epoch
after the first (the first pays tracing). Run here on the CPU; on a GPU machine run
`python -m bench.sequence_speed --device-name gpu` with `KERAS_BACKEND=jax` and merge its JSON
(`--sequence-gpu-results`).
"""

from __future__ import annotations

import argparse
import json
import time

ARCHS = ("rnn", "lstm", "transformer")
LENGTHS = (16, 64, 256, 1024)


def epoch_seconds(arch: str, length: int, *, samples: int, width: int, batch_size: int, epochs: int) -> float:
    import keras
    import numpy as np

    from archlab.architectures.registry import get

    keras.backend.clear_session()  # one process measures every length: free the last model's graph first
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    # L time steps of W features each: the recurrent builders read an (L, W, 1) input's rows as steps; the
    # transformer gets (L, 1, W) with 1x1 patches, so each step is one token (its 2x2 image patches would make
    # 4L tokens of another shape: at L=1024 that ran out of 24 GiB).
    shape = (length, 1, width) if arch == "transformer" else (length, width, 1)
    x = rng.integers(0, 256, size=(samples, *shape)).astype(np.float32)
    y = rng.integers(0, 10, size=samples)
    architecture = get(arch)
    extra = {"patch_size": 1} if arch == "transformer" else {}
    params = architecture.params.model_validate({"epochs": epochs, "batch_size": batch_size, **extra})
    import importlib

    model = importlib.import_module(f"archlab.architectures.zoo.{arch}").build(x.shape[1:], 10, params)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.started)

    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[Clock()])
    return min(times[1:]) if len(times) > 1 else times[0]


def measure(lengths=LENGTHS, archs=ARCHS, *, samples: int = 256, width: int = 16, batch_size: int = 32,
            epochs: int = 3) -> dict:
    """{arch: {length: seconds per epoch}} on this process's backend and device."""
    return {arch: {str(n): round(epoch_seconds(arch, n, samples=samples, width=width, batch_size=batch_size,
                                               epochs=epochs), 4) for n in lengths} for arch in archs}


def describe(config: dict) -> str:
    return (f"{config['samples']} synthetic sequences of width {config['width']}, batch {config['batch_size']}, "
            f"fastest of {config['epochs'] - 1} epochs after the first")


def figure(per_device: dict, path) -> str:
    """Seconds per epoch against length (log-log), a line per architecture and device."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for device, per_arch in per_device.items():
        for arch, times in per_arch.items():
            lengths = sorted(int(k) for k, v in times.items() if v is not None)  # None: that length failed
            ax.plot(lengths, [times[str(n)] for n in lengths], marker="o", label=f"{arch} ({device})",
                    linestyle="-" if device == "cpu" else "--")
    ax.set(xscale="log", yscale="log", xlabel="sequence length", ylabel="seconds per epoch",
           title="Training speed against sequence length")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return str(path)


def markdown(result: dict, table) -> list[str]:
    rows = [{"device": device, "architecture": arch,
             **{f"L={k}": "failed" if v is None else v for k, v in times.items()}}
            for device, per_arch in result["seconds_per_epoch"].items() for arch, times in per_arch.items()]
    columns = ["device", "architecture", *[f"L={n}" for n in result["lengths"]]]
    return ["", "## Sequence length: seconds per training epoch", "", result["setup"] + ". "
            + (result.get("gpu_note") or ""), ""] + table(rows, columns) + ["", f"Figure: {result['figure']}"] + \
        [f"- {cell} failed: {why}" for cell, why in result.get("failed", {}).items()]


def measure_apart(lengths, archs=ARCHS, **config) -> dict:
    """`measure`, each architecture in its own process, shortest length first, each length's time printed as soon
    as it is measured: one that runs out of memory at a length keeps the lengths before it and is recorded as
    failed there (None, with why) instead of taking the others down with it."""
    import subprocess
    import sys

    from bench.measure import ROOT

    out: dict = {}
    for arch in archs:
        args = [sys.executable, "-m", "bench.sequence_speed", "--lengths", ",".join(map(str, lengths)),
                "--archs", arch, "--each", *[f"--{k}={v}" for k, v in config.items()]]
        proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
        done = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        times = {str(row["length"]): row["seconds"] for row in done}
        out[arch] = {str(n): times.get(str(n)) for n in lengths}
        if proc.returncode != 0:
            first = next(str(n) for n in lengths if str(n) not in times)
            out.setdefault("failed", {})[f"{arch}@{first}"] = f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--lengths", default=",".join(map(str, LENGTHS)))
    p.add_argument("--archs", default=",".join(ARCHS))
    p.add_argument("--device-name", default="cpu")
    for key, default in (("samples", 256), ("width", 16), ("batch_size", 32), ("epochs", 3)):
        p.add_argument(f"--{key}", type=int, default=default)
    p.add_argument("--each", action="store_true", help="print one JSON line per length as it is measured")
    args = p.parse_args()
    lengths = [int(n) for n in args.lengths.split(",")]
    config = dict(samples=args.samples, width=args.width, batch_size=args.batch_size, epochs=args.epochs)
    if args.each:
        for arch in args.archs.split(","):
            for n in lengths:
                seconds = epoch_seconds(arch, n, **config)
                print(json.dumps({"arch": arch, "length": n, "seconds": round(seconds, 4)}), flush=True)  # noqa: T201
        return
    print(json.dumps({args.device_name: measure(lengths, args.archs.split(","), **config)}))  # noqa: T201


if __name__ == "__main__":
    main()
