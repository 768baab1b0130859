"""Server-rendered pages and the browser JavaScript that encrypts and decrypts."""
