"""Entity ids: keyed hashes of an entity's key values, so nobody can compute a person's id.

An entity's id is ``Type-`` and an HMAC-SHA256, under the store's id key, of the unkeyed id
(the type, the key namespace and the folded key values, hashed). The namespaces are in the
shipped mapping specs, so an unkeyed hash of a nominal number would let anyone who knows the
number find, confirm or line up that person's id; keyed, the id says nothing without the key.

The key is ``NIMGRAPH_ID_KEY`` where a deployment sets one (to give two stores the same ids), or
a random secret the store makes when it is created and keeps with its data. Either way the store
records the key's fingerprint, so a store is never written under two keys. A store made before
ids were keyed is migrated once (``nimgraph migrate-ids``): the keyed id of an entity is a
function of its unkeyed id, so the migration needs nothing but the ids themselves.

Link ids hash the link's type and its two (keyed) ends: they cannot be computed without the
ends' ids either.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable

from nimgraph.ingest.values import fold
from nimgraph.store.errors import StoreConfigError

FINGERPRINT_MESSAGE = b"nimgraph id key fingerprint"
META_SECRET = "id_secret"  # kept only when the store made its own key
META_FINGERPRINT = "id_fingerprint"
HASHED = re.compile(r"^[A-Za-z][A-Za-z0-9]*-[0-9a-f]{20}$")  # an id made from key values, not a partner's own


def unkeyed_id(type_name: str, namespace: str, parts: list[str]) -> str:
    """The id before keying: the same whenever the same keys are seen, whatever the source.

    >>> unkeyed_id("Person", "police-nominal", ["N1001"]) == unkeyed_id("Person", "police-nominal", [" n1001 "])
    True
    """
    normalised = "\x1f".join([namespace.casefold(), *(fold(p) for p in parts)])
    return f"{type_name}-{hashlib.sha256(normalised.encode()).hexdigest()[:20]}"


def link_id(type_name: str, source: str, target: str) -> str:
    """A link's id from its type and the ids of its ends."""
    return unkeyed_id(type_name, "link", [source, target])


class IdKey:
    """The secret behind a store's entity ids.

    >>> key = IdKey("a-secret-for-the-doctest-only")
    >>> key.entity_id("Person", "police-nominal", ["N1001"]) == key.entity_id("Person", "police-nominal", ["n1001"])
    True
    >>> key.entity_id("Person", "police-nominal", ["N1001"]) == unkeyed_id("Person", "police-nominal", ["N1001"])
    False
    >>> key.entity_id("Person", "p", ["N1"]) == IdKey("another-secret").entity_id("Person", "p", ["N1"])
    False
    """

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("an id key needs a secret")
        self._secret = secret.encode()

    @classmethod
    def generate(cls) -> IdKey:
        return cls(secrets.token_urlsafe(32))

    @property
    def secret(self) -> str:
        return self._secret.decode()

    @property
    def fingerprint(self) -> str:
        """Tells keys apart without revealing them."""
        return hmac.new(self._secret, FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:32]

    def entity_id(self, type_name: str, namespace: str, parts: list[str]) -> str:
        return self.keyed(unkeyed_id(type_name, namespace, parts))

    def keyed(self, unkeyed: str) -> str:
        """The keyed form of an unkeyed id: what ingest writes now, and what a migration rewrites to."""
        type_name = unkeyed.split("-", 1)[0]
        return f"{type_name}-{hmac.digest(self._secret, unkeyed.encode(), 'sha256').hex()[:20]}"


def store_key(
    configured: str, meta: dict[str, str], has_entities: bool, write_meta: Callable[[dict[str, str]], None]
) -> IdKey:
    """The id key of a store, from the setting and what the store recorded; made on a new store.

    Raises StoreConfigError when the store was made under another key, under a configured key
    that is not set now, or before ids were keyed (it needs ``nimgraph migrate-ids``).
    """
    fingerprint = meta.get(META_FINGERPRINT)
    if fingerprint is None:
        if has_entities:
            raise StoreConfigError(
                "this store holds ids made before ids were keyed (anyone could compute them): "
                "run `nimgraph migrate-ids` once to rewrite them under the store's key"
            )
        key = IdKey(configured) if configured else IdKey.generate()
        write_meta({META_FINGERPRINT: key.fingerprint, **({} if configured else {META_SECRET: key.secret})})
        return key
    key = IdKey(configured) if configured else IdKey(meta[META_SECRET]) if META_SECRET in meta else None
    if key is None:
        raise StoreConfigError(
            "this store's ids were made under NIMGRAPH_ID_KEY, which is not set: set the key it was made with"
        )
    if key.fingerprint != fingerprint:
        raise StoreConfigError(
            "this store's ids were made under another id key: set NIMGRAPH_ID_KEY to the key it was made "
            "with" + (" (or unset it: the store keeps its own)" if META_SECRET in meta else "")
        )
    return key


def migration(
    key: IdKey,
    entity_ids: list[str],
    links: list[tuple[str, str, str, str]],
    oriented: Callable[[str, str, str], tuple[str, str]] = lambda _type, source, target: (source, target),
) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """Old id -> keyed id, for entities and for links given as (id, type, source, target); and the new
    ids of the links to turn round.

    Only ids made from key values are rewritten: a partner's own id (``id:`` in a spec) is kept,
    though ingest now keys one that names a person. A link whose id was made from its ends is
    re-made from the new ends, put in order by ``oriented`` (Model.oriented: a symmetric link's ends
    in id order, as ingest puts them); one whose ends that order swaps is to be turned round. Any
    other link (an accepted inference's) keeps its id.

    >>> key = IdKey("doctest-secret")
    >>> a, b = unkeyed_id("Person", "n", ["1"]), unkeyed_id("Person", "n", ["2"])
    >>> entities, links, turned = migration(
    ...     key, [a, b], [(link_id("knows", a, b), "knows", a, b), ("inference:x", "x", a, b)])
    >>> links[link_id("knows", a, b)] == link_id("knows", entities[a], entities[b]), "inference:x" in links, turned
    (True, False, set())
    """
    entities = {old: key.keyed(old) for old in entity_ids if HASHED.match(old)}
    renamed, turned = {}, set()
    for old, type_name, source, target in links:
        if old == link_id(type_name, source, target) or old == link_id(type_name, *sorted((source, target))):
            ends = (entities.get(source, source), entities.get(target, target))
            first, second = oriented(type_name, *ends)
            renamed[old] = link_id(type_name, first, second)
            if (first, second) != ends:
                turned.add(renamed[old])
    return entities, renamed, turned
