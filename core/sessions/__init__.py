"""Server-side sessions: the cookie holds a random id, the store holds the state."""
