"""Records usage exactly once, prices it, and keeps budgets current."""
