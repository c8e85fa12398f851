"""The HTTP entry point: identity, admission and request status."""
