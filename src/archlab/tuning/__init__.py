"""Equal-budget hyper-parameter tuning of every architecture (Ray Tune + Optuna)."""
