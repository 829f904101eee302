"""The one domain error family: stages and the CLI print these without a traceback and exit non-zero."""


class ArchlabError(Exception):
    """Base class for every error archlab reports to a user as a plain message."""

    exit_code = 2


class ParamsError(ArchlabError):
    """params.yaml is missing, unparsable, or does not fit the schema."""


class DataError(ArchlabError):
    """The input data is structurally unusable (missing path, one class, mismatched arrays, ...)."""


class ValidationFailed(ArchlabError):
    """A critical data expectation failed: the pipeline must stop before training."""

    exit_code = 3
