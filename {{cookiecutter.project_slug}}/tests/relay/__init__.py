"""The relay, against a real upstream."""
