"""archlab: train, compare and register the classic deep-learning architectures on one dataset."""

__version__ = "0.1.0"
