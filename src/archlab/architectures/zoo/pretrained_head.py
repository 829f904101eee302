"""`pretrained_head`: a dense classifier trained on a frozen pretrained backbone's cached embeddings, plus a
logistic-regression probe on the same embeddings as a second, classical head (logged as `probe_val_accuracy`).

The saved model is backbone + head in one graph taking raw images, so evaluation, `archlab predict` and serving
treat it like any other model; the cache only makes training cheap.
"""

from __future__ import annotations

from pydantic import Field

from archlab.architectures.common import KerasFitParams
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import KERAS_FIT, Integer, Real


class PretrainedHeadParams(KerasFitParams):
    backbone: str = Field("vgg16", pattern="^(vgg16|resnet50|mobilenet_v2)$",
                          description="whose cached features (featurize.backbones must include it)")
    hidden_units: int = Field(256, ge=1)
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    probe_C: float = Field(0.1, gt=0.0, description="inverse regularisation of the logistic-regression probe")


def build_head(train_features, n_classes: int, params: PretrainedHeadParams):
    """(N, dim) embeddings -> standardised (statistics of the train embeddings) -> dense -> (N, n_classes)."""
    import keras
    from keras import layers

    # VGG embeddings are ReLU outputs of very different scales. Channels that are (almost) constant on train keep
    # unit variance: dividing by ~0 would blow up any val/test sample where that channel fires.
    variance = train_features.var(axis=0)
    variance[variance < 1e-6] = 1.0
    normalise = layers.Normalization(mean=train_features.mean(axis=0), variance=variance, name="standardise")
    inputs = keras.Input(shape=(train_features.shape[1],), name="embedding")
    x = normalise(inputs)
    x = layers.Dense(params.hidden_units, activation="relu")(x)
    x = layers.Dropout(params.dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="pretrained_head")


def probe_accuracy(f_train, y_train, f_val, y_val, C: float) -> float:
    """Val accuracy of a standardised logistic regression on the embeddings (the linear-probe baseline)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=3000)).fit(f_train, y_train)
    return float(probe.score(f_val, y_val))


def fit(data, params: PretrainedHeadParams, ctx):
    import keras
    import numpy as np

    from archlab.architectures.backbones import build_backbone, weights_fingerprint
    from archlab.errors import ArchlabError
    from archlab.features import image_model, load_features, read_meta
    from archlab.training.fit import Trained, compile_classifier, fit_keras

    if ctx.features_dir is None:
        raise ArchlabError("pretrained_head trains on cached features: pass --features data/features/<backbone>")
    meta = read_meta(ctx.features_dir)
    if meta["backbone"] != params.backbone:
        raise ArchlabError(f"train.pretrained_head.backbone={params.backbone!r} but {ctx.features_dir} holds "
                           f"{meta['backbone']!r} features")
    f_train, y_train = load_features(ctx.features_dir, "train")
    f_val, y_val = load_features(ctx.features_dir, "val")
    if not (np.array_equal(y_train, data.y_train) and np.array_equal(y_val, data.y_val)):
        raise ArchlabError(f"{ctx.features_dir} was extracted from other data; re-run `dvc repro` to refresh it")
    head = build_head(f_train, data.n_classes, params)
    compile_classifier(head, params)
    history = fit_keras(head, f_train, y_train, f_val, y_val, params, ctx, phase="head")
    probe = probe_accuracy(f_train, y_train, f_val, y_val, params.probe_C)
    backbone = build_backbone(meta["backbone"], weights=meta["weights_source"], input_size=meta["input_size"],
                              pooling=meta["pooling"], seed=meta["seed"])
    if weights_fingerprint(backbone.model) != meta["weights_fingerprint"]:
        raise ArchlabError(f"the {meta['backbone']} weights differ from those the cached features came from; "
                           "re-run the featurize stage")
    extractor = image_model(backbone, data.input_shape)
    pixels = keras.Input(shape=data.input_shape, name="pixels")
    model = keras.Model(pixels, head(extractor(pixels)), name=f"pretrained_head_{meta['backbone']}")
    return Trained(model=model, kind="keras", history=history,
                   metrics={"probe_val_accuracy": probe},
                   tags={"archlab.backbone": meta["backbone"], "archlab.weights_source": meta["weights_source"],
                         "archlab.weights_sha256": meta["weights_sha256"],
                         "archlab.weights_description": meta["description"]})


register(Architecture(name="pretrained_head", family="pretrained", params=PretrainedHeadParams,
                      fits=dict(image_classification=fit),
                      search={**KERAS_FIT, "hidden_units": Integer(32, 1024, log=True), "dropout": Real(0.0, 0.5)}))
