"""API keys: creation (the key is shown once), look-up by hash, revocation."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlmodel import Session, select

from crm_graph.errors import NotFound, UserError
from crm_graph.models import ApiKey, Store
from crm_graph.models.enums import Role
from crm_graph.models.types import utcnow

_KEY_PREFIX = "crm_"
#: last_used_at is written at most this often per key, so reads do not turn into writes.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    """The stored form of a key. Keys are 256 random bits, so a plain SHA-256 cannot be reversed."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(session: Session, store: Store, role: Role | str, name: str = "") -> tuple[ApiKey, str]:
    """Create a key for `store` with `role`; returns the row and the plain key, which is not kept."""
    try:
        role = Role(str(role).upper())
    except ValueError:
        raise UserError(f"Role {role!r} is not one of read, write, admin.") from None
    plain = _KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        store_id=store.id, name=name or f"{role.value.lower()} key", role=role.value,
        prefix=plain[: len(_KEY_PREFIX) + 6], key_hash=hash_key(plain),
    )
    session.add(key)
    session.flush()
    return key, plain


def authenticate(session: Session, plain: str) -> tuple[ApiKey, Store] | None:
    """The live key matching `plain` and its store, or None; records when the key was last used."""
    if not plain.startswith(_KEY_PREFIX) or len(plain) > 200:
        return None
    row = session.exec(
        select(ApiKey, Store).join(Store, Store.id == ApiKey.store_id).where(ApiKey.key_hash == hash_key(plain))
    ).first()
    if row is None:
        return None
    key, store = row
    if key.revoked_at is not None:
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION:
        key.last_used_at = now
        session.add(key)
    return key, store


def revoke_api_key(session: Session, store: Store, key_id: int) -> ApiKey:
    """Revoke a key of `store`; requests with it fail from now on."""
    key = session.exec(select(ApiKey).where(ApiKey.store_id == store.id, ApiKey.id == key_id)).first()
    if key is None:
        raise NotFound(f"Store {store.slug!r} has no API key {key_id}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
    return key


def list_api_keys(session: Session, store: Store) -> list[ApiKey]:
    """The store's keys, revoked ones included, newest first."""
    return list(session.exec(select(ApiKey).where(ApiKey.store_id == store.id).order_by(ApiKey.id.desc())))
