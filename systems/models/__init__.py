"""The models of the systems (paper-size and CPU-size) and the one checkpoint loader."""
