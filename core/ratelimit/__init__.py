"""Fixed-window rate limits (reveal attempts, creations); Redis arrives with issue 5."""
