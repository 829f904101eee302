"""Stops inside training are deferred to a batch boundary; outside they unwind at once."""

import pytest

from archlab import interrupts


@pytest.fixture(autouse=True)
def no_stop_yet(monkeypatch):
    monkeypatch.setattr(interrupts, "_requested", [])


def test_a_stop_outside_training_raises_at_once():
    with pytest.raises(KeyboardInterrupt):
        interrupts.request_stop(15)
    assert interrupts.stop_requested()


def test_a_stop_inside_a_deferred_block_is_raised_at_the_next_safe_point():
    reached = []
    with pytest.raises(KeyboardInterrupt, match="signal 15"), interrupts.deferred():
        interrupts.request_stop(15)  # what the handler does mid-TensorFlow: record, do not raise
        reached.append("after the signal")
        interrupts.raise_if_stopped()
        reached.append("after the safe point")
    assert reached == ["after the signal"]


def test_a_stop_at_the_very_end_of_a_deferred_block_is_not_lost():
    with pytest.raises(KeyboardInterrupt), interrupts.deferred():
        interrupts.request_stop(2)


def test_training_stops_at_a_batch_boundary(tmp_path):
    """A real Keras fit: the stop callback raises at the first batch after the request."""
    import keras
    import numpy as np

    from archlab.training import fit

    batches = []

    class Count(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            batches.append(batch)
            if batch == 2:
                interrupts.request_stop(15)

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = np.zeros((64, 4), "float32"), np.zeros(64, "int64")
    with pytest.raises(KeyboardInterrupt), interrupts.deferred():
        model.fit(x, y, batch_size=4, epochs=3, verbose=0, callbacks=[Count(), fit._stop_when_asked_callback()])
    assert batches == [0, 1, 2]
