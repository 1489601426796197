"""Deterministic synthetic sample data in the publishers' real file formats (offline demo, tests, load tests)."""
