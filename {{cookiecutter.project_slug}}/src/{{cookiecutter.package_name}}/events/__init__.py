"""The live event feed: publish once, fan out to every open stream, resume with Last-Event-ID."""
