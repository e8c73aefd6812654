"""One file per editing operation; pipelines/registry.py lists them."""
