"""The event feed, on every hub."""
