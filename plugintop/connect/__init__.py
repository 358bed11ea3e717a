"""Reaching the backends: the clients built from a context (`backends`), and `plugintop check` (`check`)."""
