"""Usage reports and budgets, kept by analytics and read through it."""
