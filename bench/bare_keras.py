"""The plain script a user would write instead of archlab: same model, data, epochs, batch size and seed, no DVC,
no MLflow, no checkpoints. Only the model definition is archlab's (so both sides train the same network).

Prints one JSON line: fit seconds (build + compile + fit, the span archlab's `train_seconds` covers) and epochs.
"""

import argparse
import importlib
import json
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import yaml


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--arch", required=True)
    p.add_argument("--params", type=Path, required=True)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    raw = yaml.safe_load(args.params.read_text())
    zoo = importlib.import_module(f"archlab.architectures.zoo.{args.arch}")
    arch_params = next(v for k, v in vars(zoo).items() if k.endswith("Params") and k != "KerasFitParams")
    params = arch_params.model_validate(raw["train"][args.arch])
    keras.utils.set_random_seed(raw["project"]["seed"])
    images = np.load(args.data / "images.npy")
    labels = np.load(args.data / "labels.npy")
    manifest = pd.read_csv(args.data / "manifest.csv")
    rows = {s: manifest.loc[manifest["split"] == s, "row"].to_numpy() for s in ("train", "val")}
    started = time.perf_counter()
    model = zoo.build(images.shape[1:], int(labels.max()) + 1, params)
    optimizer = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW,
                 "sgd": keras.optimizers.SGD}[params.optimizer](learning_rate=params.learning_rate)
    model.compile(optimizer=optimizer,
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(images[rows["train"]], labels[rows["train"]], epochs=params.epochs,
                        batch_size=params.batch_size, shuffle=True, verbose=0,
                        validation_data=(images[rows["val"]], labels[rows["val"]]),
                        callbacks=[keras.callbacks.EarlyStopping(patience=params.patience,
                                                                 restore_best_weights=True)])
    fit_seconds = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / "model.keras")
    print(json.dumps({"fit_seconds": fit_seconds, "epochs": len(history.history["loss"])}))  # noqa: T201


if __name__ == "__main__":
    main()
