"""The configuration: contexts (backends, TLS, timeouts, telemetry schema), where they are read from, and secrets."""
