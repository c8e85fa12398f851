"""Admission: whether a request may proceed (rate limits per plan tier)."""
