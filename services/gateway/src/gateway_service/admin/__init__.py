"""Administration: users, plan tiers, deactivation."""
