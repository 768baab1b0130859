"""Sessions, rate limits, replay caches and one-use tokens: in-process memory or Redis."""
