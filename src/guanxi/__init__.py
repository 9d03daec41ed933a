"""Guanxi (关系): customer relationship management for Chinese SMEs."""

__version__ = "0.1.0"
