"""Passwords (argon2id), random tokens and their digests, and CSRF signatures."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "csrf_token",
    "csrf_valid",
    "hash_password",
    "needs_rehash",
    "new_token",
    "token_digest",
    "verify_password",
]

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
_MIN_PASSWORD = 8

#: A hash to verify against when the user does not exist, so that the answer takes as long.
_DUMMY_HASH = _HASHER.hash("clientbase-no-such-user")


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (PHC string with its own salt and parameters)."""
    if len(password) < _MIN_PASSWORD:
        raise ValueError(f"a password needs at least {_MIN_PASSWORD} characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing hash costs the same time and fails."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def new_token(prefix: str) -> str:
    """A fresh random secret (256 bits), prefixed so that leaked tokens are recognisable."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """SHA-256 of a token: what the database keeps. Tokens are random, so no salt is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(key: str, binding: str) -> str:
    """The CSRF token for a form, bound to a session (or a pre-sign-in cookie) value."""
    return hmac.new(key.encode(), f"csrf:{binding}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(key: str, binding: str, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(csrf_token(key, binding), token or "")
