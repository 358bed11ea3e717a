"""Provides the async clients of the four backends and Grafana (pure httpx + msgspec models, no Textual)."""
