"""Secrets never reach output: every message that may quote a client error passes through scrub."""

from __future__ import annotations

from collections.abc import Iterable


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret value in a message with ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
