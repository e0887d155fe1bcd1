"""Row exports, on every back-end."""
