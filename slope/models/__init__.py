"""slope.models: models written on the public slope API (slope.models.llama; slope.models.whisper: the audio
front end, config and loader)."""
