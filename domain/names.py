"""Object-name rules shared by flows, deployments, work pools, queues, variables, blocks."""

from __future__ import annotations

BANNED_CHARACTERS = ["/", "%", "&", ">", "<"]


def check_name(value: str) -> str:
    """Reject names with URL-breaking characters (the reference 500s on deployments; we 422)."""
    if value is not None and any(c in value for c in BANNED_CHARACTERS):
        raise ValueError(
            f"Name {value!r} contains an invalid character. Must not contain any of: {BANNED_CHARACTERS}."
        )
    return value

