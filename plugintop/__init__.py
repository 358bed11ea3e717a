"""plugintop: one-screen triage of a slow plugin for a tenant."""

__version__ = "0.1.0"
