"""The databases rows come from: one interface, one module per database."""
