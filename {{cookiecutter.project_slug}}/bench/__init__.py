"""The benchmark of the service: not part of it, and left out of its wheel and image."""
