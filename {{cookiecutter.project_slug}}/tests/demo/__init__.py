"""The demo page, in a real browser."""
