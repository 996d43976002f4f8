"""slope.models: models written on the public slope API (slope.models.llama)."""
