"""Data validation with Great Expectations 1.x: bad data stops the pipeline before any training."""
