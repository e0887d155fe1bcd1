"""What the features build on, depending on none of them: settings, streams, secrets."""
