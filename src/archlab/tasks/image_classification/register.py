"""The register stage's scoring for image classification: the classification tasks' (accuracy or macro-F1 of the
labels a version predicts for the test images)."""

from archlab.tasks.classification_register import scorer

__all__ = ["scorer"]
