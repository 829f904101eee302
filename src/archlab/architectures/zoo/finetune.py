"""`finetune`: a pretrained backbone with a new head; first the head alone (backbone frozen), then the top
`unfreeze_layers` layers unfrozen with `fine_tune_lr`, much lower than the head's learning rate.

Batch norm layers stay frozen and the backbone is called with `training=False`, so their statistics stay in
inference mode: with small batches, updating them would wreck the pretrained features (Keras' fine-tuning guide).
While the backbone is frozen its output cannot change, so the head phase trains on embeddings computed once
(the transfer-learning guide's "run the base once"), not on a backbone pass per epoch. Phase two does the same one
level down: the layers below the first unfrozen one are still frozen, so their activations are computed once and
the unfrozen top trains on them (`archlab.architectures.activation_cache`; it switches itself off, logging why,
when those activations could change).
"""

from __future__ import annotations

import logging

from pydantic import Field

from archlab.architectures.common import KerasFitParams
from archlab.architectures.registry import Architecture, register
from archlab.architectures.search_space import KERAS_FIT, Integer, Real

log = logging.getLogger(__name__)


class FinetuneParams(KerasFitParams):
    backbone: str = Field("vgg16", pattern="^(vgg16|resnet50|mobilenet_v2)$")
    weights: str = Field("hed-bsds500", min_length=1, description="as featurize: imagenet | none | hed-bsds500 | path")
    input_size: int = Field(32, ge=32, le=512)
    pooling: str = Field("avg", pattern="^(avg|max)$")
    hidden_units: int = Field(256, ge=1)
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    head_epochs: int = Field(10, ge=1)
    # 3: VGG16's top block (block5_conv1-3), the classic recipe. 4 (block4_conv3 too) cost ~30% more phase-two
    # time on digits at 32x32 for the same mean test accuracy (0.957 over seeds 42-44, docs/benchmark.md).
    unfreeze_layers: int = Field(3, ge=1, description="top backbone layers made trainable in phase two")
    fine_tune_lr: float = Field(1e-4, gt=0.0, le=1.0, description="10x below the head's learning rate")
    epochs: int = Field(10, ge=1, le=10_000, description="fine-tuning epochs (phase two)")
    patience: int = Field(4, ge=0)
    activation_cache: bool = Field(True, description="phase two trains the unfrozen top on activations computed "
                                   "once (switches itself off, logging why, when they could change)")


def build(input_shape, n_classes: int, params: FinetuneParams, seed: int = 0):
    """Raw images -> backbone input layer -> backbone (inference mode) -> dense head.

    Returns:
        (model, backbone, extractor, head): the full model, the Backbone, the images -> embeddings model and the
        embeddings -> probabilities head (the full model's last layer, so weights trained on either are shared).
    """
    import keras
    from keras import layers

    from archlab.architectures.backbones import build_backbone
    from archlab.features import image_model

    backbone = build_backbone(params.backbone, weights=params.weights, input_size=params.input_size,
                              pooling=params.pooling, seed=seed)
    extractor = image_model(backbone, input_shape)
    embeddings = keras.Input(shape=extractor.output_shape[1:], name="embeddings")
    x = layers.Dropout(params.dropout)(embeddings)
    x = layers.Dense(params.hidden_units, activation="relu")(x)
    x = layers.Dropout(params.dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    head = keras.Model(embeddings, outputs, name="head")
    inputs = keras.Input(shape=input_shape, name="pixels")
    model = keras.Model(inputs, head(extractor(inputs, training=False)), name=f"finetune_{params.backbone}")
    return model, backbone, extractor, head


def unfreeze_top(backbone_model, n_layers: int) -> list[str]:
    """Make the top `n_layers` weighted layers trainable, batch norm excepted; returns their names."""
    import keras

    backbone_model.trainable = True
    weighted = [layer for layer in backbone_model.layers if layer.weights]
    chosen = [layer for layer in weighted[-n_layers:] if not isinstance(layer, keras.layers.BatchNormalization)]
    for layer in backbone_model.layers:
        layer.trainable = layer in chosen
    return [layer.name for layer in chosen]


def fit(data, params: FinetuneParams, ctx):
    from archlab.architectures import activation_cache
    from archlab.training.fit import Trained, compile_classifier, fit_keras

    model, backbone, extractor, head_model = build(data.input_shape, data.n_classes, params, seed=ctx.seed)
    batch = params.batch_size
    # The plan needs the unfrozen layers; the head phase trains `head_model` alone, whatever the backbone's flags.
    unfrozen = unfreeze_top(backbone.model, params.unfreeze_layers)
    cache = activation_cache.plan(model, backbone.model, unfrozen) if params.activation_cache else \
        activation_cache.CachePlan(None, "train.finetune.activation_cache is false")
    if cache.cut is None:
        log.warning("finetune: phase two pushes every batch through the whole backbone: %s", cache.reason)
        train_emb, val_emb = (extractor.predict(x, batch_size=batch, verbose=0) for x in (data.x_train, data.x_val))
        trained_model, x_train, x_val = model, data.x_train, data.x_val
    else:
        # One pass below the cut serves both phases: the head's embeddings are the top's output on the cache.
        bottom, top = activation_cache.split(extractor, backbone.model, cache.cut)
        (x_train, train_emb), (x_val, val_emb) = (
            activation_cache.write_activations(bottom, x, ctx.checkpoint_dir / f"activations_{split}.npy", batch,
                                               top=top)
            for split, x in (("train", data.x_train), ("val", data.x_val)))
        trained_model = activation_cache.cached_model(top, head_model)
        log.info("finetune: %s (%s per image)", cache.reason, "x".join(map(str, x_train.shape[1:])))
    compile_classifier(head_model, params)
    head = fit_keras(head_model, train_emb, data.y_train, val_emb, data.y_val,
                     params.model_copy(update={"epochs": params.head_epochs}), ctx, phase="head")
    compile_classifier(trained_model, params, learning_rate=params.fine_tune_lr)  # trainable flags changed
    tuned = fit_keras(trained_model, x_train, data.y_train, x_val, data.y_val, params, ctx, phase="finetune",
                      epoch_offset=len(head))
    return Trained(model=model, kind="keras", history=head + tuned,
                   metrics={"unfrozen_layers": len(unfrozen), "activation_cache": float(cache.cut is not None)},
                   tags={"archlab.backbone": params.backbone, "archlab.weights_source": params.weights,
                         "archlab.weights_sha256": backbone.weights_sha256,
                         "archlab.weights_description": backbone.description,
                         "archlab.activation_cache": cache.reason})


register(Architecture(name="finetune", family="pretrained", params=FinetuneParams,
                      fits=dict(image_classification=fit),
                      search={**KERAS_FIT, "fine_tune_lr": Real(1e-5, 1e-3, log=True), "unfreeze_layers": Integer(1, 6),
                              "hidden_units": Integer(64, 512, log=True), "dropout": Real(0.0, 0.5)}))
