"""Repeated cross-validation (`compare` in params.yaml, one `cv@<arch>` stage each): fold scores on train + val
that the verdicts of `archlab.evaluation.verdicts` compare, with the test split left to the holdout score."""
