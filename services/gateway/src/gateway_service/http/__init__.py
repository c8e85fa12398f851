"""HTTP plumbing of the gateway: errors as RFC 7807 problems, shared dependencies."""
