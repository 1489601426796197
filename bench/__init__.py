"""National-scale benchmark of the police.uk pipeline (``make bench``; see bench/README.md)."""
