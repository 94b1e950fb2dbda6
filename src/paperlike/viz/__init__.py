"""The map: a deterministic 2-D projection and a self-contained interactive HTML page."""
