"""Spatial mixture generation for S5: rooms, source banks, scene plans, rendering and writing."""
