"""The register stage's scoring for tabular classification: the classification tasks' (the test rows go to the
pyfunc as raw columns, `TabularClassification.registry_inputs`)."""

from archlab.tasks.classification_register import scorer

__all__ = ["scorer"]
