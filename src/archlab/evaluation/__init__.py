"""Evaluation: every model scored on the same held-out test split, with uncertainty, cost and plots."""
