"""Who is asking and what they may see: roles, authentication, crypto, audit, privacy."""
