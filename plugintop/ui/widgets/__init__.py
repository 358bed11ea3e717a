"""Provides the panes of the screen, one widget per module."""
