"""Epoch time of every builder-defined Keras architecture on whatever backend and device this process has.

Run with `KERAS_BACKEND=jax` (or torch) on a GPU machine and on the CPU here; prints one JSON object. The epoch
time is the fastest epoch after the first (the first pays tracing and compilation). Data: shifted 28x28 digits.
"""

import argparse
import importlib
import json
import time

import keras

ARCHS = ("shallow_mlp", "deep_mlp", "cnn", "rnn", "lstm", "transformer")


class EpochClock(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.started)


def epoch_seconds(arch: str, x, y, *, mixed: bool, epochs: int, batch_size: int) -> float:
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    keras.utils.set_random_seed(0)
    zoo = importlib.import_module(f"archlab.architectures.zoo.{arch}")
    params_cls = next(v for k, v in vars(zoo).items() if k.endswith("Params") and k != "KerasFitParams")
    model = zoo.build(x.shape[1:], 10, params_cls())
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    clock = EpochClock()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[clock])
    return min(clock.times[1:]) if len(clock.times) > 1 else clock.times[0]


def main() -> None:
    from archlab.device import prepare
    from bench.scaling import shifted_digits

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--images", type=int, default=6000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--archs", default=",".join(ARCHS))
    args = p.parse_args()
    x, y = shifted_digits(args.images)
    info = prepare(0)
    rows = [{"architecture": arch, "mixed_precision": mixed,
             "epoch_s": round(epoch_seconds(arch, x[..., None], y, mixed=mixed, epochs=args.epochs,
                                            batch_size=args.batch_size), 3)}
            for arch in args.archs.split(",") for mixed in (False, True)]
    print(json.dumps({"device": info["device"], "backend": info["backend"], "images": args.images,  # noqa: T201
                      "batch_size": args.batch_size, "rows": rows}))


if __name__ == "__main__":
    main()
