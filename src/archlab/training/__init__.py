"""Training: the shared loop, the per-stage orchestration, model files and summaries."""
