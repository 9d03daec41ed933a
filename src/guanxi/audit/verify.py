"""Walk the audit hash chain and report the first entry that was edited, inserted or deleted.

Streaming: rows are read in id order in keyset batches (``id > last``), as tuples of the
hashed columns, so memory stays constant however long the log is and no long-lived cursor
or snapshot holds up writers. Appends made while the walk runs are checked too when it
reaches them; the chain head is read before and after the walk so they are never mistaken
for tampering.

How each kind of tampering shows (``expected`` is the hash of the last good entry):

- edited: the entry's recomputed HMAC differs from its stored ``entry_hash`` (any shown
  column, or the hash itself, was changed). Without the key the hash cannot be recomputed.
- deleted: an intact entry whose ``prev_hash`` is not ``expected`` (entries are missing just
  before it; it is "the entry after the gap"), or the head names an entry that is gone.
  Gaps in ids alone prove nothing: PostgreSQL sequences skip ids of rolled-back inserts.
- inserted: an entry the chain goes around (the next entry links to ``expected``), or an
  entry after the head, or an entry that links to ``expected`` while its successor links to
  the entry before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from guanxi.audit.models import AuditChainHead, AuditEntry
from guanxi.audit.services import HASHED_FIELDS, digest_values

EDITED, DELETED, INSERTED = "edited", "deleted", "inserted"
BATCH_SIZE = 2000
_COLUMNS = ("id", "entry_hash", *HASHED_FIELDS)
_PREV = 2 + HASHED_FIELDS.index("prev_hash")


@dataclass
class VerifyResult:
    """What ``verify_chain`` found; ``ok`` is False with the first bad entry named."""

    ok: bool = True
    complete: bool = True  # False when a time budget stopped the walk early
    checked: int = 0
    last_id: int | None = None
    last_hash: str = ""
    problem: str | None = None  # edited | deleted | inserted
    entry_id: int | None = None
    message: str = ""
    elapsed: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Entries checked per second."""
        return self.checked / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["elapsed"] = round(self.elapsed, 3)
        data["entries_per_second"] = round(self.rate)
        return data


class _Broken(Exception):
    def __init__(self, problem: str, entry_id: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.problem, self.entry_id, self.message, self.details = (
            problem,
            entry_id,
            message,
            details,
        )


def _rows(batch_size: int) -> Iterator[tuple[Any, ...]]:
    """Every entry in id order (a forged id 0 or below included), one keyset batch at a time."""
    qs = AuditEntry.objects.order_by("id").values_list(*_COLUMNS)
    batch = list(qs[:batch_size])
    while batch:
        yield from batch
        if len(batch) < batch_size:
            return
        batch = list(qs.filter(id__gt=batch[-1][0])[:batch_size])


def _with_next(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(row, next row or None): one row of look-ahead to tell a deletion from an insertion."""
    current = next(rows, None)
    while current is not None:
        following = next(rows, None)
        yield current, following
        current = following


def _read_head() -> tuple[int, str]:
    head = AuditChainHead.objects.filter(pk=1).values_list("last_entry_id", "last_hash").first()
    return head or (0, "")


MSG_EDITED = _lazy("条目 #%(id)s 的内容与其哈希不符（被修改）")
MSG_HEAD_MISMATCH = _lazy("条目 #%(id)s 与链头记录的哈希不符（被修改）")
MSG_INSERTED = _lazy("条目 #%(id)s 不在哈希链上（被插入）")
MSG_AFTER_HEAD = _lazy("条目 #%(id)s 位于链头之后（被插入）")
MSG_DELETED = _lazy("条目 #%(id)s 之前的条目被删除（前一哈希不连续）")
MSG_HEAD_GONE = _lazy("链头记录的最后条目 #%(id)s 已不存在（末尾条目被删除）")


def _broken(problem: str, entry_id: int, message: Any, **details: Any) -> _Broken:
    return _Broken(problem, entry_id, str(message) % {"id": entry_id}, **details)


class _Walk:
    """The state of one walk: the last two good hashes and the head seen at the start."""

    def __init__(self, head_id: int, head_hash: str) -> None:
        self.head_id, self.head_hash = head_id, head_hash
        self.expected = ""  # hash of the last good entry ("" before the first)
        self.before_expected: str | None = None  # hash of the good entry before that
        self.last_id: int | None = None
        self.checked = 0

    def step(self, row: tuple[Any, ...], following: tuple[Any, ...] | None) -> None:
        entry_id, stored, prev = row[0], row[1], row[_PREV]
        intact = digest_values(dict(zip(HASHED_FIELDS, row[2:], strict=True))) == stored
        if not intact or prev != self.expected:
            self._classify(entry_id, intact, prev, following)
        if entry_id == self.head_id and stored != self.head_hash:
            raise _broken(EDITED, entry_id, MSG_HEAD_MISMATCH)
        self.before_expected, self.expected = self.expected, stored
        self.last_id = entry_id
        self.checked += 1

    def _classify(
        self, entry_id: int, intact: bool, prev: str, following: tuple[Any, ...] | None
    ) -> None:
        """Name what happened to a row that does not continue the chain (always raises)."""
        if entry_id > self.head_id and _read_head()[0] < entry_id:
            raise _broken(INSERTED, entry_id, MSG_AFTER_HEAD)
        if following is not None and following[_PREV] == self.expected:
            raise _broken(INSERTED, entry_id, MSG_INSERTED)  # the chain goes around it
        if not intact:
            raise _broken(EDITED, entry_id, MSG_EDITED)
        if self.last_id is not None and prev == self.before_expected:
            raise _broken(INSERTED, self.last_id, MSG_INSERTED)  # it links past its predecessor
        raise _broken(DELETED, entry_id, MSG_DELETED, after_id=self.last_id)

    def finish(self) -> None:
        """The last entry must be the chain head (re-read: appends may have landed since)."""
        last = self.last_id or 0
        if self.head_id > last:
            raise _broken(DELETED, self.head_id, MSG_HEAD_GONE)
        head_id, head_hash = _read_head()
        if head_id > last:
            if not AuditEntry.objects.filter(pk=head_id).exists():
                raise _broken(DELETED, head_id, MSG_HEAD_GONE)
            return  # appended after the walk passed by: the next run checks it
        if head_id < last:
            extra = (
                AuditEntry.objects.filter(id__gt=head_id)
                .order_by("id")
                .values_list("id", flat=True)
                .first()
            )
            raise _broken(INSERTED, extra or last, MSG_AFTER_HEAD)
        if last and head_hash != self.expected:
            raise _broken(EDITED, last, MSG_HEAD_MISMATCH)


def verify_chain(
    *,
    batch_size: int = BATCH_SIZE,
    time_budget: float | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> VerifyResult:
    """Check the whole chain (or as much as ``time_budget`` seconds allow).

    ``progress(checked, elapsed)`` is called after every batch, for a command-line display.
    """
    started = time.monotonic()
    walk = _Walk(*_read_head())
    result = VerifyResult()
    try:
        for row, following in _with_next(_rows(batch_size)):
            walk.step(row, following)
            if walk.checked % batch_size == 0:
                elapsed = time.monotonic() - started
                if progress:
                    progress(walk.checked, elapsed)
                if time_budget is not None and elapsed > time_budget:
                    result.complete = False
                    break
        else:
            walk.finish()
    except _Broken as broken:
        result.ok = False
        result.problem, result.entry_id = broken.problem, broken.entry_id
        result.message, result.details = broken.message, broken.details
        if broken.entry_id and walk.checked == 0 and broken.problem == EDITED:
            result.details["hint"] = _(
                "若第一条即不符，也可能是审计密钥（GUANXI_BLIND_INDEX_KEY）与写入时不同"
            )
    result.checked = walk.checked
    result.last_id, result.last_hash = walk.last_id, walk.expected
    result.elapsed = time.monotonic() - started
    if result.ok and result.complete:
        result.message = _("审计日志完整，共校验 %(n)s 条") % {"n": walk.checked}
    elif result.ok:
        result.message = _("时间已到，仅校验了前 %(n)s 条（至 #%(id)s），请用命令行完整校验") % {
            "n": walk.checked,
            "id": walk.last_id,
        }
    return result
