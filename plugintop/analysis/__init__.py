"""Provides the analysis layer: pure functions over the backend models (no I/O, no Textual)."""
