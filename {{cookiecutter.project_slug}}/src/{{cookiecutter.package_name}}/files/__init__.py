"""File downloads from FILES_DIR, with Range, conditional requests and safe names."""
