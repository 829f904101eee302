"""The one domain error family: stages and the CLI print these without a traceback and exit non-zero."""


class ArchlabError(Exception):
    """Base class for every error archlab reports to a user as a plain message."""

    exit_code = 2


class ParamsError(ArchlabError):
    """params.yaml is missing, unparsable, or does not fit the schema."""


class DataError(ArchlabError):
    """The input data is structurally unusable (missing path, one class, mismatched arrays, ...)."""


class InvalidData(ArchlabError):
    """New data cannot be used at all (unreadable, or failing the validation suite): exit code 3."""

    exit_code = 3


class ValidationFailed(InvalidData):
    """A critical data expectation failed: the pipeline must stop before training."""


class DriftBlocked(ArchlabError):
    """New data differs from the champion's training data beyond the hard limit: a person must look first."""

    exit_code = 4


class JobLocked(ArchlabError):
    """Another scheduled job holds the lock; this one exits at once instead of waiting or overlapping."""

    exit_code = 75  # EX_TEMPFAIL: try again later


class PipelineFailed(ArchlabError):
    """`dvc repro` failed inside a job (a stage crashed or was killed); the champion was left as it was."""

    exit_code = 1


class TrackingUnavailable(ArchlabError):
    """The MLflow tracking server does not answer: the stage stops before it writes anything."""

    exit_code = 5


class OutputNotWritable(ArchlabError):
    """An output could not be written: the disk is full, the folder is read-only, or permission is denied."""

    exit_code = 6
