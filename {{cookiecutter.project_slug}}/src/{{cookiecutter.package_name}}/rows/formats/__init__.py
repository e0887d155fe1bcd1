"""Row formats: each a batch encoder, the bytes around it, and a media type."""
