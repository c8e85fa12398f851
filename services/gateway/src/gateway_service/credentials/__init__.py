"""Users' provider and Notion credentials: validated, encrypted, shared as ciphertext."""
