"""Experiments built from the training pieces: reproductions and comparisons."""
