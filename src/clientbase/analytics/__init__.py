"""Ibis query builders that never execute; `engine.py` is the one place that runs them."""
