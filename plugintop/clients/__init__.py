"""Provides the async clients of the four backends and Grafana (pure httpx + pydantic, no Textual)."""
