"""The HTTP layer the JSON API (``api``) and the pages (``web``) both build on: server-side
sessions, CSRF, FastAPI dependencies, error mapping, security headers, the access log and page
rendering. It imports neither of them; only the app factory (``api.app``) assembles the three.
"""
