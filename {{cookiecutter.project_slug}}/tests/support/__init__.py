"""What the tests share: servers on loopback, settings, parsers of what the service sends."""
