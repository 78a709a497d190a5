"""Sweeps: models x runs from a config, stored, resumable, on this machine or a Ray cluster."""
