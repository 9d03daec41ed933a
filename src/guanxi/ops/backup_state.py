"""Per-table row digests: what makes incrementals and restore checks possible.

Every backup stores, for every table, each row's primary key and an 8-byte hash of the row.
The next incremental re-reads only the rows the change log (``backup_changelog``) names,
writes those whose hash changed or that are new plus the keys that disappeared (deletes), and
patches the previous state with them (``merge_changes``). The digest of a table (sha256
over its keys and hashes in key order) is the checksum the manifest records and a restore
must reproduce.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeGuard


@dataclass
class TableState:
    """The keys (in scan order) and row hashes of one table."""

    pk: str
    keys: list[Any] | array = field(default_factory=list)
    hashes: bytearray = field(default_factory=bytearray)

    @property
    def rows(self) -> int:
        return len(self.hashes) // 8

    def checksum(self) -> str:
        sha = hashlib.sha256()
        if isinstance(self.keys, array):
            sha.update(self.keys.tobytes())
        else:
            sha.update(json.dumps(list(self.keys), default=str).encode())
        sha.update(bytes(self.hashes))
        return sha.hexdigest()

    def lookup(self) -> dict[Any, bytes]:
        """key -> hash, for comparing a new scan against this state."""
        h = bytes(self.hashes)
        return {key: h[i * 8 : i * 8 + 8] for i, key in enumerate(self.keys)}


def packed(state: TableState | None) -> TypeGuard[TableState]:
    """Whether ``state`` holds integer keys in ascending order (``merge_changes`` can patch it)."""
    return state is not None and isinstance(state.keys, array)


def patch_states(
    tables: dict[str, str],
    previous: dict[str, TableState],
    logged: dict[str, set[str] | None],
    int_keyed: set[str],
    fetch: Callable[[str, str, TableState, set[str]], TableState],
    scan: Callable[[str, str, TableState | None], TableState],
) -> dict[str, TableState]:
    """Each table's new state: the previous one when nothing was logged for it, the previous
    one patched with the logged rows when it can be (integer keys), else a full re-scan
    (text keys, a truncated table, no previous state)."""
    states = {}
    for table, pk in tables.items():
        old = previous.get(table)
        keys = logged.get(table, set())
        if old is not None and table not in logged:
            states[table] = old
        elif keys is not None and table in int_keyed and packed(old):
            states[table] = fetch(table, pk, old, keys)
        else:
            states[table] = scan(table, pk, old)
    return states


def merge_changes(
    state: TableState, fetched: dict[int, bytes], logged: list[int]
) -> tuple[TableState, list[int], list[int]]:
    """A new state from ``state`` (packed integer keys, ascending) and the rows an
    incremental re-read: ``logged`` keys were written since, ``fetched`` holds the hashes of
    those that still exist. Returns (state, keys new or changed, keys deleted); unchanged
    stretches are copied as slices, so the cost follows the changes, not the table.
    """
    keys, hashes = state.keys, bytes(state.hashes)
    assert isinstance(keys, array)
    out_keys, out_hashes = array("q"), bytearray()
    changed, deleted = [], []
    lo, n = 0, len(keys)
    for key in sorted(set(logged)):
        pos = bisect_left(keys, key, lo)
        out_keys.extend(keys[lo:pos])
        out_hashes += hashes[lo * 8 : pos * 8]
        exists = pos < n and keys[pos] == key
        lo = pos + 1 if exists else pos
        digest = fetched.get(key)
        if digest is None:
            if exists:
                deleted.append(key)
            continue
        if not exists or hashes[pos * 8 : pos * 8 + 8] != digest:
            changed.append(key)
        out_keys.append(key)
        out_hashes += digest
    out_keys.extend(keys[lo:])
    out_hashes += hashes[lo * 8 :]
    return TableState(pk=state.pk, keys=out_keys, hashes=out_hashes), changed, deleted


class StateBuilder:
    """Collects (key, hash) pairs of one table scan; int keys packed into an array."""

    def __init__(self, pk: str) -> None:
        self.state = TableState(pk=pk, keys=array("q"))
        self.packed = True

    def add(self, key: Any, digest: bytes) -> None:
        if self.packed and not isinstance(key, int):
            self.state.keys = list(self.state.keys)
            self.packed = False
        self.state.keys.append(key)
        self.state.hashes += digest


def diff_keys(
    previous: TableState | None, current_keys: Any, current_hashes: bytes
) -> tuple[list[Any], list[Any]]:
    """(changed or new keys, deleted keys) between a previous state and a new scan."""
    old = previous.lookup() if previous is not None else {}
    changed = []
    for i, key in enumerate(current_keys):
        if old.pop(key, None) != current_hashes[i * 8 : i * 8 + 8]:
            changed.append(key)
    return changed, list(old)


def summary(states: dict[str, TableState]) -> dict[str, dict[str, Any]]:
    """The manifest's table section: row count and checksum per table."""
    return {
        name: {"pk": st.pk, "rows": st.rows, "checksum": st.checksum()}
        for name, st in states.items()
    }


def dump_states(states: dict[str, TableState]) -> dict[str, bytes]:
    """Archive members holding the states (read back by ``load_states``)."""
    members: dict[str, bytes] = {}
    index = {}
    for name, st in states.items():
        packed = isinstance(st.keys, array)
        index[name] = {"pk": st.pk, "packed": packed}
        members[f"state/{name}.keys"] = (
            st.keys.tobytes() if packed else json.dumps(list(st.keys)).encode()
        )
        members[f"state/{name}.hashes"] = bytes(st.hashes)
    members["state/index.json"] = json.dumps(index).encode()
    return members


def load_states(members: dict[str, bytes]) -> dict[str, TableState]:
    index = json.loads(members["state/index.json"])
    states = {}
    for name, info in index.items():
        raw = members[f"state/{name}.keys"]
        if info["packed"]:
            keys: Any = array("q")
            keys.frombytes(raw)
        else:
            keys = json.loads(raw)
        states[name] = TableState(
            pk=info["pk"], keys=keys, hashes=bytearray(members[f"state/{name}.hashes"])
        )
    return states
