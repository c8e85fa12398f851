"""Answers generation requests with LLMs; owns conversations and content history."""
