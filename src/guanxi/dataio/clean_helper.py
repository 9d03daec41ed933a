"""Cleaning the next chunk on the second core while this process writes the current one.

Cleaning (validation, normalisation, duplicate keys) is pure Python and about a third of an
import's time; writing is mostly the database's. A forked helper process cleans chunk k+1
while the import writes chunk k, so the two overlap on a two-core machine.

The helper never touches the database. It is forked before the first chunk, once
``Importer.begin`` has read what cleaning needs (owners, dictionaries into the memo scope,
custom-field definitions), and inherits that; its connections refuse every query. Forking
early also keeps it small: fork shares pages only until either process writes to them, and
the import's heap is at its smallest before the first chunk.
A chunk whose cleaning would need the database anyway comes back refused and is cleaned
here instead, and so is every later chunk: the result never depends on the helper, only
the speed does. Only importers that declare ``clean_offline`` use it.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from django.conf import settings
from django.db import connections

from guanxi.dataio.importers.base import Importer, Row

log = logging.getLogger(__name__)

# Seconds to wait for one chunk before giving up on the helper (a helper that hangs, e.g.
# on a lock another thread held when it was forked, must not hang the import).
CHUNK_TIMEOUT = 300
PARENT_CHECK_SECONDS = 0.5

# The importer the helper cleans with: set in this process just before the fork, so the
# helper inherits it with its lookups already read.
_importer: Importer | None = None


class NeedsDatabase(RuntimeError):
    """Cleaning in the helper tried to query the database."""


def _refuse(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    raise NeedsDatabase(sql[:120])


def _start_helper(parent: int) -> None:
    """In the helper: every database connection refuses to run a statement. The inherited
    connections are left open and unused (closing them would close the parent's session),
    so the helper must not outlive the import: it ends itself when its parent is gone."""
    for conn in connections.all():
        conn.execute_wrappers.append(_refuse)
    threading.Thread(target=_end_with, args=(parent,), daemon=True).start()


def _end_with(parent: int) -> None:
    """A killed import (kill -9) cannot stop its helper, and the helper would otherwise wait
    for work forever, holding a copy of the database socket open."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def _clean_chunk(rows: list[Row], prepare: bool) -> list[tuple[dict, list, dict, Any]]:
    """In the helper: clean (and prepare) ``rows``; what the parent needs of each."""
    assert _importer is not None
    clean_here(_importer, rows, prepare)
    return [(row.cleaned, row.keys, row.errors, row.prepared) for row in rows]


def helper_wanted(importer: Importer, total_rows: int | None, chunk: int) -> bool:
    """Worth a helper: the importer cleans without the database and there is more than
    one chunk to overlap (fork is the only start method that inherits the lookups)."""
    return (
        bool(settings.GUANXI_IMPORT_HELPER)
        and importer.clean_offline
        and (total_rows or 0) > chunk
        and "fork" in multiprocessing.get_all_start_methods()
    )


def clean_here(importer: Importer, rows: list[Row], prepare: bool) -> list[Row]:
    """Clean ``rows`` in this process; with ``prepare``, clean rows are prepared too."""
    for row in rows:
        importer.clean(row)
        if prepare and not row.errors:
            importer.prepare(row)
    return rows


def cleaned_chunks(
    importer: Importer,
    chunks: Iterable[list[Row]],
    *,
    use_helper: bool,
    prepare: bool,
) -> Iterator[list[Row]]:
    """``chunks`` with every row cleaned (and, with ``prepare``, prepared for the write), in
    order. With ``use_helper`` the chunk after the one being yielded is already being
    cleaned by the helper while the caller works."""
    if not use_helper:
        for rows in chunks:
            yield clean_here(importer, rows, prepare)
        return
    helper = _Helper(importer, prepare)
    pending: deque[tuple[list[Row], Future | None]] = deque()
    try:
        for rows in chunks:
            pending.append((rows, helper.submit(rows)))
            while len(pending) > (1 if helper.in_use else 0):  # keep one chunk in flight
                yield helper.collect(*pending.popleft())
        while pending:
            yield helper.collect(*pending.popleft())
    finally:
        helper.close()


class _Helper:
    """The forked helper process of one pass, and how many chunks it cleaned."""

    def __init__(self, importer: Importer, prepare: bool) -> None:
        global _importer
        _importer = importer
        self.importer, self.prepare = importer, prepare
        self.in_use = True
        self.helped = self.chunks = 0
        # Objects that exist now are left out of garbage collection while the helper lives:
        # a collection writes to every object it scans, and a page written by either
        # process stops being shared with the other.
        gc.freeze()
        self.pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_helper,
            initargs=(os.getpid(),),
        )

    def submit(self, rows: list[Row]) -> Future | None:
        return self.pool.submit(_clean_chunk, rows, self.prepare) if self.in_use else None

    def collect(self, rows: list[Row], job: Future | None) -> list[Row]:
        """``rows`` filled from the helper's result, or cleaned here when the helper refused,
        failed or was given up (then it is given up for the rest of the pass)."""
        self.chunks += 1
        results = self._results(job) if job is not None and self.in_use else None
        if results is None:
            return clean_here(self.importer, rows, self.prepare)
        for row, (cleaned, keys, errors, prepared) in zip(rows, results, strict=True):
            row.cleaned, row.keys, row.errors, row.prepared = cleaned, keys, errors, prepared
        self.helped += 1
        return rows

    def _results(self, job: Future) -> list[tuple[dict, list, dict, Any]] | None:
        try:
            return job.result(timeout=CHUNK_TIMEOUT)
        except NeedsDatabase as exc:
            log.info("import cleaning needs the database (%s); cleaning here from now on", exc)
        except Exception:
            log.warning("import cleaning helper failed; cleaning here from now on", exc_info=True)
        self._abandon()
        return None

    def _abandon(self) -> None:
        """Stop the helper for good: queued chunks cancelled, its process ended (it may be
        stuck, and a stuck child would also hold this process at exit)."""
        self.in_use = False
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()

    def close(self) -> None:
        global _importer
        _importer = None
        self.pool.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()
        log.info("helper process cleaned %d of %d chunks", self.helped, self.chunks)
