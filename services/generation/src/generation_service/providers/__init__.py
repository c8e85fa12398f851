"""LLM providers behind one streaming interface, each through its official SDK."""
