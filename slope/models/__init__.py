"""Models built on slope's public surface (slope.models.whisper: Whisper's audio front end, config and loader)."""
