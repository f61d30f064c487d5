"""API keys: creation (the key is shown once), look-up by hash, revocation."""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from crm_graph.errors import NotFound
from crm_graph.models import ApiKey, Store
from crm_graph.models.enums import Role
from crm_graph.models.types import utcnow
from crm_graph.services.customers.errors import FieldError
from crm_graph.services.keyset import KeysetPage, Order, keyset_page, total_count

_KEY_PREFIX = "crm_"
#: 32 random bytes, URL-safe base64 without padding, after the prefix.
_KEY_FORMAT = re.compile(r"crm_[A-Za-z0-9_-]{43}")
#: last_used_at is written at most this often per key, so reads do not turn into writes.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


#: Recently authenticated keys of this process: key hash -> (when, key, store). See `recall`.
_recent: OrderedDict[str, tuple[float, ApiKey, Store]] = OrderedDict()
_recent_lock = threading.Lock()
_RECENT_MAX = 10_000


def looks_like_key(plain: str) -> bool:
    """Whether `plain` has the shape of a key this service issues (anything else is refused unread)."""
    return _KEY_FORMAT.fullmatch(plain) is not None


def recall(digest: str, ttl: float) -> tuple[ApiKey, Store] | None:
    """The key (and store) with hash `digest` if this process authenticated it less than `ttl` s ago.

    It spares the database one query per request. A key revoked in this process is forgotten at
    once; revoked elsewhere (the CLI, another API process), it keeps working here for at most `ttl`.
    """
    if ttl <= 0:
        return None
    with _recent_lock:
        found = _recent.get(digest)
        if found is None or time.monotonic() - found[0] > ttl:
            return None
        return found[1], found[2]


def remember(key: ApiKey, store: Store) -> None:
    """Keep a successful authentication for `recall` (bounded: the oldest are dropped)."""
    with _recent_lock:
        _recent[key.key_hash] = (time.monotonic(), key, store)
        _recent.move_to_end(key.key_hash)
        while len(_recent) > _RECENT_MAX:
            _recent.popitem(last=False)


def forget(digest: str | None = None) -> None:
    """Drop the remembered key with hash `digest` (all of them when None)."""
    with _recent_lock:
        if digest is None:
            _recent.clear()
        else:
            _recent.pop(digest, None)


def hash_key(key: str) -> str:
    """The stored form of a key. Keys are 256 random bits, so a plain SHA-256 cannot be reversed."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(session: Session, store: Store, role: Role | str, name: str = "") -> tuple[ApiKey, str]:
    """Create a key for `store` with `role`; returns the row and the plain key, which is not kept."""
    try:
        role = Role(str(role).upper())
    except ValueError:
        raise FieldError("role", f"Role {role!r} is not one of read, write, admin.") from None
    if len(name) > 200:
        raise FieldError("name", "`name` of an API key must be at most 200 characters.")
    plain = _KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        store_id=store.id, name=name or f"{role.value.lower()} key", role=role.value,
        prefix=plain[: len(_KEY_PREFIX) + 6], key_hash=hash_key(plain),
    )
    session.add(key)
    session.flush()
    return key, plain


def authenticate(session: Session, plain: str) -> tuple[ApiKey, Store] | None:
    """The live (not revoked) key matching `plain` and its store, or None. Reads only.

    The key is found by the SHA-256 of what the client sent, through a unique index: a timing
    difference could only tell an attacker about the hash of their own guess, never about a real
    key, so no constant-time comparison is needed here. Strings that cannot be a key are refused
    without a query.
    """
    if not looks_like_key(plain):
        return None
    row = session.exec(
        select(ApiKey, Store).join(Store, Store.id == ApiKey.store_id).where(ApiKey.key_hash == hash_key(plain))
    ).first()
    if row is None or row[0].revoked_at is not None:
        return None
    return row[0], row[1]


def needs_touch(key: ApiKey, now: datetime | None = None) -> bool:
    """Whether `key.last_used_at` is older than the resolution at which uses are recorded."""
    now = now or utcnow()
    return key.last_used_at is None or now - key.last_used_at > _LAST_USED_RESOLUTION


def touch_api_key(session: Session, key_id: int, now: datetime | None = None) -> None:
    """Record that key `key_id` was used now; a no-op when another request did so within the resolution.

    The condition is in the UPDATE itself, so concurrent requests of several processes write the
    row at most once per resolution instead of contending for it on every request.
    """
    now = now or utcnow()
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id,
               or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - _LAST_USED_RESOLUTION))
        .values(last_used_at=now)
    )


def revoke_api_key(session: Session, store: Store, key_id: int) -> ApiKey:
    """Revoke a key of `store`; requests with it fail from now on."""
    key = session.exec(select(ApiKey).where(ApiKey.store_id == store.id, ApiKey.id == key_id)).first()
    if key is None:
        raise NotFound(f"Store {store.slug!r} has no API key {key_id}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
    forget(key.key_hash)
    return key


def list_api_keys(session: Session, store: Store) -> list[ApiKey]:
    """The store's keys, revoked ones included, newest first."""
    return list(session.exec(select(ApiKey).where(ApiKey.store_id == store.id).order_by(ApiKey.id.desc())))


#: The order of the key list: newest first.
API_KEY_ORDER = (Order(ApiKey.id, int, descending=True),)


def api_keys_page(session: Session, store: Store, *, size: int, backward: bool = False,
                  cursor: str | None = None) -> KeysetPage[ApiKey]:
    """A page of the store's keys, revoked ones included, newest first (see `crm_graph.services.keyset`)."""
    query = sa_select(ApiKey).where(ApiKey.store_id == store.id)
    return keyset_page(session, query, "apiKeys", API_KEY_ORDER, lambda key: (key.id,),
                       size=size, backward=backward, cursor=cursor)


def api_key_count(session: Session, store: Store) -> int:
    """How many keys the store has, revoked ones included."""
    return total_count(session, sa_select(ApiKey).where(ApiKey.store_id == store.id))


def api_keys_by_id(session: Session, store: Store, key_ids: Sequence[int]) -> dict[int, ApiKey]:
    """The store's keys among `key_ids`, by id (other stores' keys are left out)."""
    rows = session.exec(sa_select(ApiKey).where(ApiKey.store_id == store.id, ApiKey.id.in_(list(key_ids)))).scalars()
    return {row.id: row for row in rows}
