"""Provides the embedded demo stack: a scenario, deterministic synthetic telemetry, and loopback
servers that speak the Prometheus, Loki, Tempo and Pyroscope HTTP APIs over it."""
