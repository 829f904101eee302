"""Data adapters: read a configured source into one normalised dataset (uint8 NHWC images, int labels)."""
