"""Rows of the database tables in `DATASETS`, streamed in every selected format."""
