"""Separation-and-classification systems behind one interface, built by name from YAML configs."""
from .base import SlotOutput, System
from .registry import build_system, known_systems

__all__ = ["System", "SlotOutput", "build_system", "known_systems"]
