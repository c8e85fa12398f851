"""Authentication: access tokens (JWT), rotating refresh tokens, the current caller."""
