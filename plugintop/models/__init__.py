"""Provides frozen models of what the backends answer; no formatting lives here."""
