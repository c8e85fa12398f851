"""Accounts: registration, profile, settings, password changes."""
