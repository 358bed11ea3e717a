"""Hand-off: an incident as one file (`bundle`) that replays with no network."""
