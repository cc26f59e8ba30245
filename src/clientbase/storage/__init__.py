"""Persistence: ORM, repositories (which never commit), the unit of work and migrations."""
