"""Shared definitions: the class list, the on-disk layout and checked audio I/O."""
