"""MLflow "models from code" entry: MLflow runs this file to get the pyfunc, instead of unpickling an object."""

import mlflow

from archlab.serving import ArchlabClassifier

mlflow.models.set_model(ArchlabClassifier())
