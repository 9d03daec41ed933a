"""What an importer is: the fields a file may carry, and how a chunk of rows is checked and
written. The engine (dataio.engine) reads the file, maps columns to fields, and hands each
importer chunks of rows; the importer owns the rules of its object type.

Adding an importer (orders, leads, users ...): subclass ``Importer``, list its ``FieldSpec``s,
implement ``clean``, ``match`` and ``write``, register it in ``dataio.importers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise


@dataclass(frozen=True)
class FieldSpec:
    """One importable field: its name, the header a template gives it, the other headers
    it is recognised by (Chinese and English), whether a row must carry it, and its rule."""

    name: str
    label: str | Promise
    aliases: tuple[str, ...] = ()
    required: bool = False
    rule: str | Promise = ""
    example: str = ""


@dataclass
class Row:
    """A data row on its way through: where it came from, its mapped values, what the
    importer made of it, and what happens to it."""

    number: int
    cells: list[str]
    values: dict[str, str]
    cleaned: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    keys: list[tuple[str, str]] = field(default_factory=list)  # (rule, key) for duplicates
    action: str = ""  # "create" | "update" | "skip" | "error"
    target_id: int | None = None  # the existing record to update / the one it duplicates
    flagged_id: int | None = None  # created although it matches this record
    note: str = ""  # the message of a skip / flag / duplicate
    prepared: Any = None  # what ``Importer.prepare`` computed ahead of the write


@dataclass(frozen=True)
class Match:
    """An existing record a row's key points at."""

    id: int
    label: str  # code and name, for messages
    rule: str  # which key matched ("mobile", "name", ...)
    in_scope: bool  # whether the importing user may change it
    batch_id: int | None  # the import batch that created it (within-file duplicates)


def error_messages(exc: ValidationError) -> dict[str, list[str]]:
    """A ValidationError as field -> messages ("" for errors not tied to a field)."""
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
    return {"": [str(m) for m in exc.messages]}


class Importer:
    """Base of the per-object importers. One instance serves one import run (``begin``
    receives the batch and the actor and may read lookup tables once)."""

    object_type: str = ""
    label: str | Promise = ""
    permission: str = ""  # needed to import
    fields: tuple[FieldSpec, ...] = ()
    # Which duplicate rules block a create (the rest only flag it in "create" mode).
    blocking_rules: frozenset[str] = frozenset()

    def field_specs(self) -> Sequence[FieldSpec]:
        """The fixed fields plus any the importer adds at run time (custom fields)."""
        return self.fields

    # True when ``clean`` reads nothing from the database after ``begin``, so a helper
    # process may clean rows.
    clean_offline: bool = False

    def begin(self, *, actor: Any, batch: Any) -> None:
        self.actor = actor
        self.batch = batch

    def clean(self, row: Row) -> None:
        """Fill ``row.cleaned`` and ``row.keys``, or ``row.errors``."""
        raise NotImplementedError

    def prepare(self, row: Row) -> None:
        """Row-local work for the write that needs no database (ciphertexts, search tokens),
        put in ``row.prepared``; runs on a clean row of a real run, in the helper process
        when there is one."""

    def match(self, rows: Sequence[Row]) -> dict[tuple[str, str], list[Match]]:
        """Existing records for the keys of ``rows``, in as few queries as possible."""
        return {}

    def write(self, rows: Sequence[Row]) -> None:
        """Create or update the rows whose action says so (inside the engine's transaction);
        set ``row.target_id`` of created rows; a row that fails turns into an error."""
        raise NotImplementedError

    def undo(self, batch: Any) -> dict[str, int]:
        """Remove what ``batch`` created and restore what it updated."""
        raise NotImplementedError
