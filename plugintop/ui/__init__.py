"""Provides the one-screen Textual app; it presents what the triage computed and builds no queries."""
