"""API keys for the deployed API: create (plaintext shown once), revoke, verify, list.

A key looks like ``fpk_<key id>_<secret>``:

* ``key id`` — 12 hex characters, public, the item's ``id`` in the ApiKeys table, so verifying a
  presented key is one ``GetItem`` (no index, no Scan, no comparison against every stored hash).
* ``secret`` — 32 random bytes (``secrets.token_urlsafe``), 256 bits of entropy.

Only ``sha256(salt || secret)`` is stored, with a random 16-byte salt per key. A fast hash is the
right tool here: slow KDFs (bcrypt, scrypt, argon2) exist to protect *low-entropy* passwords from
guessing, while a 256-bit random secret cannot be guessed at any hash rate — and a slow KDF would
add its cost to every uncached authorizer call. The per-key salt means equal secrets never produce
equal hashes and no precomputed table applies across keys. Comparison is constant-time
(``hmac.compare_digest``). A leaked table therefore reveals key ids and names, never a usable key.

Revoking keeps the item (with ``revoked`` set) so ``list`` shows the history; a revoked key never
verifies again. On AWS the authorizer's result cache (``AuthorizerCacheSeconds``) can keep a revoked
key working for at most that many seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from domain.context import Ctx
from domain.errors import ConditionFailed, NotFound
from domain.ports import Cond
from domain.sharded_index import query_all
from domain.timeutil import iso_utc

PREFIX = "fpk_"
_ID_HEX = 12
API_KEY_NOT_FOUND = "API key not found"


def _hash(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode("utf-8")).hexdigest()


def _public(doc: dict) -> dict:
    return {k: doc.get(k) for k in ("id", "name", "created", "revoked")}


def parse(presented: str) -> tuple[str, str] | None:
    """``fpk_<id>_<secret>`` -> (id, secret); None when the text is not shaped like a key."""
    if not isinstance(presented, str) or not presented.startswith(PREFIX):
        return None
    key_id, sep, secret = presented[len(PREFIX):].partition("_")
    if not sep or len(key_id) != _ID_HEX or not secret or len(secret) > 200:
        return None
    try:
        int(key_id, 16)
    except ValueError:
        return None
    return key_id.lower(), secret


def create(ctx: Ctx, name: str) -> tuple[str, dict]:
    """Store a new key; returns (the plaintext key — shown this once, never stored — and its record)."""
    for _ in range(3):  # 48-bit ids: a collision is astronomically unlikely, but never overwrite
        key_id = secrets.token_hex(_ID_HEX // 2)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        doc = {"id": key_id, "name": name, "created": iso_utc(ctx.now()), "revoked": None,
               "salt": salt, "hash": _hash(salt, secret)}
        try:
            ctx.stores.api_keys.put(doc, cond=Cond.absent())
        except ConditionFailed:
            continue
        return f"{PREFIX}{key_id}_{secret}", _public(doc)
    raise RuntimeError("could not allocate an API key id")


def revoke(ctx: Ctx, key_id: str) -> dict:
    """Mark the key revoked (idempotent); NotFound when there is no such key."""
    key_id = key_id.removeprefix(PREFIX).split("_", 1)[0].lower()
    doc = ctx.stores.api_keys.get(key_id)
    if doc is None:
        raise NotFound(API_KEY_NOT_FOUND)
    if not doc.get("revoked"):
        doc["revoked"] = iso_utc(ctx.now())
        try:
            ctx.stores.api_keys.put(doc, cond=Cond.exists())
        except ConditionFailed:
            raise NotFound(API_KEY_NOT_FOUND) from None
    return _public(doc)


def verify(ctx: Ctx, presented: str | None) -> dict | None:
    """The key's public record when ``presented`` is a valid, unrevoked key; otherwise None.

    Malformed input costs nothing (no store call); a well-formed key costs one GetItem.
    """
    parsed = parse(presented) if presented else None
    if parsed is None:
        return None
    key_id, secret = parsed
    doc = ctx.stores.api_keys.get(key_id)
    if doc is None or doc.get("revoked"):
        return None
    if not hmac.compare_digest(_hash(doc["salt"], secret), doc["hash"]):
        return None
    return _public(doc)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value (scheme case-insensitive)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def list_keys(ctx: Ctx) -> list[dict]:
    """Every key (revoked ones too), oldest first — an admin listing, never on a request path."""
    return [_public(d) for d in query_all(ctx.stores.api_keys, "by_created")]
