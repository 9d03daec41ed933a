"""Full-text search of customers by token index, one interface over two databases.

``search_tokens`` (built by core.search_keys) holds unigrams, bigrams, pinyin pairs and
initials pairs. SQLite indexes it with an FTS5 table (unicode61 tokens, kept current by
triggers); PostgreSQL with a GIN index over ``string_to_array(search_tokens, ' ')``. Neither
depends on the database's locale. A query becomes an OR of AND-groups of tokens.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.db.models.expressions import OrderBy, RawSQL
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan

from guanxi.core.migration_ops import table_columns

FTS_TABLE = "customers_customer_fts"

# Rows written by an import are indexed by ``index_imported`` in one statement per chunk:
# FTS5 takes ~190 us a row through a row trigger and ~15 us a row in bulk.
INSERT_TRIGGER = f"""CREATE TRIGGER IF NOT EXISTS customers_customer_fts_ai
    AFTER INSERT ON customers_customer WHEN new.import_batch_id IS NULL
    BEGIN INSERT INTO {FTS_TABLE}(rowid, search_tokens) VALUES (new.id, new.search_tokens); END"""
# Before the import_batch column exists (early migrations) the trigger cannot name it.
LEGACY_INSERT_TRIGGER = f"""CREATE TRIGGER IF NOT EXISTS customers_customer_fts_ai
    AFTER INSERT ON customers_customer
    BEGIN INSERT INTO {FTS_TABLE}(rowid, search_tokens) VALUES (new.id, new.search_tokens); END"""
SQLITE_SETUP = [  # the insert trigger goes second (see install)
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "search_tokens, content='customers_customer', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0', detail=none)",
    f"""CREATE TRIGGER IF NOT EXISTS customers_customer_fts_ad AFTER DELETE ON customers_customer
    BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_tokens)
    VALUES ('delete', old.id, old.search_tokens); END""",
    f"""CREATE TRIGGER IF NOT EXISTS customers_customer_fts_au
    AFTER UPDATE OF search_tokens ON customers_customer
    BEGIN INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_tokens)
    VALUES ('delete', old.id, old.search_tokens);
    INSERT INTO {FTS_TABLE}(rowid, search_tokens) VALUES (new.id, new.search_tokens); END""",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
]
SQLITE_TEARDOWN = [
    "DROP TRIGGER IF EXISTS customers_customer_fts_ai",
    "DROP TRIGGER IF EXISTS customers_customer_fts_ad",
    "DROP TRIGGER IF EXISTS customers_customer_fts_au",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
]
# PostgreSQL indexes the tokens together with two scope tokens per row, "@o<owner id>" and
# "@d<department id>" ("@" never occurs in a search token). A search within a user's own or
# department scope asks the index for its tokens plus the scope's (``scope_search``), so the
# index answers with that user's matches only, instead of every match for the heap to filter
# (a sales rep owns one row in twenty; their 4-character search read 23,000 heap pages).
TOKENS_SQL = (
    "string_to_array({column} || coalesce(' @o' || {owner}::text, '') "
    "|| coalesce(' @d' || {department}::text, ''), ' ')"
)
TOKENS_ARRAY = TOKENS_SQL.format(
    column="search_tokens", owner="owner_id", department="department_id"
)
POSTGRES_SETUP = [
    "CREATE INDEX IF NOT EXISTS customers_customer_tokens_gin ON customers_customer "
    f"USING gin ({TOKENS_ARRAY})",
    # Per-token frequencies for the planner: with the default 100 every token outside the top
    # 1,000 is guessed at 0.5% of the table, and rare tokens go down the slow path.
    "ALTER INDEX customers_customer_tokens_gin ALTER COLUMN 1 SET STATISTICS 1000",
]
POSTGRES_TEARDOWN = ["DROP INDEX IF EXISTS customers_customer_tokens_gin"]


def install(schema_editor: object = None) -> None:
    """Create the vendor-specific index (called by a migration and by the benchmark)."""
    if connection.vendor == "sqlite":
        columns = table_columns(connection, "customers_customer")
        trigger = INSERT_TRIGGER if "import_batch_id" in columns else LEGACY_INSERT_TRIGGER
        statements = [SQLITE_SETUP[0], trigger, *SQLITE_SETUP[1:]]
    else:
        statements = POSTGRES_SETUP
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def index_imported(batch_id: int, first_id: int, last_id: int) -> None:
    """Index the rows an import chunk just inserted (ids ``first_id``..``last_id`` of batch
    ``batch_id``), inside the chunk's transaction. PostgreSQL's GIN index needs nothing."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {FTS_TABLE}(rowid, search_tokens) SELECT id, search_tokens "
            "FROM customers_customer WHERE import_batch_id = %s AND id BETWEEN %s AND %s",
            [batch_id, first_id, last_id],
        )


def replace_insert_trigger(apps: object = None, schema_editor: object = None) -> None:
    """Migration step: the insert trigger with the import exception (SQLite only)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cur:
        cur.execute("DROP TRIGGER IF EXISTS customers_customer_fts_ai")
        cur.execute(INSERT_TRIGGER)


def rebuild_postgres_index(apps: object = None, schema_editor: object = None) -> None:
    """Migration step: the GIN index over tokens and scope tokens in place of the older one
    over tokens alone (PostgreSQL only; builds the index over every row, once)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        for sql in [*POSTGRES_TEARDOWN, *POSTGRES_SETUP]:
            cur.execute(sql)


def uninstall(schema_editor: object = None) -> None:
    statements = SQLITE_TEARDOWN if connection.vendor == "sqlite" else POSTGRES_TEARDOWN
    with connection.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def _fts_expression(groups: list[list[str]]) -> str:
    return " OR ".join(
        "(" + " AND ".join(f'"{token}"' for token in group) + ")" for group in groups
    )


# SQLite: the lowest rowid worth fetching from the FTS index while a candidate window is open
# (see ``windowed_page``); None means every match.
_min_rowid: ContextVar[int | None] = ContextVar("guanxi_search_min_rowid", default=None)
# Both: the ids a window already found for the page, which then need no second walk.
_page_ids: ContextVar[list[int] | None] = ContextVar("guanxi_search_page_ids", default=None)
# PostgreSQL: the scope tokens of the searching user (see ``scope_search``); () means all rows.
_scope_tokens: ContextVar[tuple[str, ...]] = ContextVar("guanxi_search_scope", default=())
# PostgreSQL: the page's ids are read through the GIN index alone (see ``newest_first``).
_index_only: ContextVar[bool] = ContextVar("guanxi_search_index_only", default=False)
MAX_SCOPE_TOKENS = 16  # beyond this many departments the OR of index probes costs more
# SQLite: windows of this many FTS matches in turn; PostgreSQL: a first window of this many
# ids, the next sized by the share of matches it held (``_next_window``).
WINDOW_SIZES = {"sqlite": (1_000, 20_000), "postgresql": (5_000,)}
T = TypeVar("T")


def token_filter(groups: list[list[str]]) -> Q:
    """A Q matching rows whose tokens satisfy any AND-group (empty plan matches nothing)."""
    if not groups:
        return Q(pk__in=[])
    found = _page_ids.get()
    if found is not None:
        return Q(pk__in=found)
    if connection.vendor == "sqlite":
        floor = _min_rowid.get()
        sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
        params: tuple[Any, ...] = (_fts_expression(groups),)
        if floor is not None:
            sql += " AND rowid >= %s"
            params += (floor,)
        return Q(pk__in=RawSQL(sql, params))
    # The condition sits on the list's own table (not a semi-join), so the planner can pick
    # a backward primary-key walk for common tokens and the GIN index for rare ones. The strpos
    # pre-checks cost a fraction of splitting the token string, so a walk splits only the rows
    # that can match; the GIN index needs no recheck, so an index read leaves them out.
    # (strpos, not LIKE: the planner guesses LIKE '%x%' on this column far too rare and then
    # joins badly.)
    q = Q()
    walk = _min_rowid.get()
    if walk is not None:
        # Inside a window, walk the id range: the expression no longer matches the GIN index,
        # whose estimates for ANDed bigrams (which occur together) can be 1,000x too low.
        q = Q(pk__gte=walk)
    scope = () if walk is not None else _scope_tokens.get()
    # An index read (``newest_first``) tests only the rows the GIN index returned, which
    # match exactly: pre-checks there would double its cost (15 -> 30 ms for 6,000 matches).
    precheck = walk is not None or not _index_only.get()
    groups_q = Q()
    for group in groups:
        # Column references go through the compiler, so the filter also holds when the list
        # is a subquery (``pk__in=list.values("pk")``), where the table has an alias.
        prechecks = (
            [GreaterThan(StrIndex("search_tokens", Value(token)), 0) for token in group]
            if precheck
            else []
        )
        contains = Q()
        for tokens in _probes([group], scope):
            contains |= Q(_TokensContain(tokens, walk=walk is not None))
        groups_q |= Q(*prechecks) & contains
    return q & groups_q


def newest_first() -> str | OrderBy:
    """The newest-first order of a search page's ids: ``-pk``, except while the GIN index
    alone is to answer (``windowed_page``), when it is the same order written so that the
    primary key cannot serve it. The planner then reads the index's matches in one bitmap
    pass and sorts them, instead of walking the key and testing every row, which its
    estimates for ANDed tokens sometimes prefer (120 ms for a 3-letter initials search that
    the index answers in 15 ms). An ``id IN (matches)`` fence did the same but visited each
    match's heap page twice (measured at 1,000,000 rows: 21-37 ms against 9-23 ms)."""
    if _index_only.get():
        return OrderBy(F("pk") + 0, descending=True)
    return "-pk"


def index_narrows_to_scope() -> bool:
    """Whether the page's ids are being read through the GIN index with the searching user's
    scope tokens (an index read inside ``scope_search``). Its matches are then exactly the
    scope's rows, so the scope's own filter can be left out of that read: kept, it tempts the
    planner into ANDing the owner index's bitmap (50,000 entries for a sales rep), which at
    1,000,000 rows took 22 ms where the GIN index alone took 11 (1,300-1,850 matches)."""
    return connection.vendor == "postgresql" and _index_only.get() and bool(_scope_tokens.get())


def _probes(groups: list[list[str]], scope: tuple[str, ...]) -> list[list[str]]:
    """The token sets to ask the index for: each group, with each scope token when scoped."""
    return [[*group, token] for group in groups for token in scope] if scope else groups


@contextlib.contextmanager
def scope_search(owner_ids: list[int], department_ids: list[int]) -> Iterator[None]:
    """Within the block, PostgreSQL token searches also ask the index for the scope's rows
    (rows of any of ``owner_ids`` or ``department_ids``). The caller's scope filter still
    applies; this only lets the index narrow to it. Empty lists (scope "all") or a scope of
    very many departments change nothing."""
    tokens = [f"@o{pk}" for pk in owner_ids] + [f"@d{pk}" for pk in department_ids]
    if not tokens or len(tokens) > MAX_SCOPE_TOKENS:
        tokens = []
    reset = _scope_tokens.set(tuple(tokens))
    try:
        yield
    finally:
        _scope_tokens.reset(reset)


class _TokensContain(Func):
    """``<the GIN index's token array> @> tokens`` (or, with ``walk``, the bare token array,
    which the index does not hold, so the planner walks the id range instead)."""

    output_field = BooleanField()

    def __init__(self, tokens: list[str], *, walk: bool) -> None:
        super().__init__(F("search_tokens"), F("owner_id"), F("department_id"))
        self.tokens, self.walk = list(tokens), walk

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple]:  # type: ignore[override]
        (column, params), (owner, _), (department, _) = (
            compiler.compile(e) for e in self.source_expressions
        )
        if self.walk:
            array = f"string_to_array(({column} || ''), ' ')"
        else:
            array = TOKENS_SQL.format(column=column, owner=owner, department=department)
        return f"{array} @> %s::text[]", (*params, self.tokens)


def apply_token_search(qs: QuerySet, groups: list[list[str]]) -> QuerySet:
    return qs.filter(token_filter(groups))


def _phone_candidates(text: str) -> tuple[str, str]:
    """Normalised (mobile, landline) readings of a query, '' where it is not one."""
    from django.core.exceptions import ValidationError

    from guanxi.core.validators import normalize_landline, normalize_mobile

    mobile = landline = ""
    with contextlib.suppress(ValidationError):
        mobile = normalize_mobile(text)
    with contextlib.suppress(ValidationError):
        landline = normalize_landline(text)
    return mobile, landline


def _is_phone(text: str) -> bool:
    compact = re.sub(r"[\s\-()]", "", text)
    return bool(
        re.fullmatch(r"\+?\d{7,}", compact) or re.fullmatch(r"\d{3,4}-\d{7,8}(-\d+)?", text)
    )


def text_search_plan(raw: str) -> list[list[str]]:
    """The token plan a search box query runs on, or [] when it takes another path
    (phone, email, customer code) or has no tokens."""
    from guanxi.core import search_keys
    from guanxi.core.validators import fold_text

    text = fold_text(raw or "")[:100]
    if not text or _is_phone(text) or "@" in text or re.fullmatch(r"CUST\d+", text.upper()):
        return []
    return search_keys.query_plan(text)


def _newest_id() -> int:
    from guanxi.customers.models import Customer

    return Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _window_floor(groups: list[list[str]], before_id: int | None, size: int) -> int | None:
    """The lowest id worth looking at: on SQLite the ``size``-th newest match below
    ``before_id`` (None when there are fewer, so the full match set is small and needs no
    window); on PostgreSQL simply ``size`` ids below it (``before_id`` is always given)."""
    if connection.vendor != "sqlite":
        return max(0, (before_id or 0) - size)
    sql = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"
    params: list[Any] = [_fts_expression(groups)]
    if before_id is not None:
        sql += " AND rowid < %s"
        params.append(before_id)
    sql += " ORDER BY rowid DESC LIMIT 1 OFFSET %s"
    params.append(size - 1)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()
    return row[0] if row else None


# PostgreSQL's own per-token frequencies (the GIN index's statistics), re-read now and then.
_FREQUENCY_TTL = 600.0
_frequencies: dict[str, Any] = {"at": -_FREQUENCY_TTL, "freq": {}, "rows": 0.0}


def _token_frequencies() -> tuple[dict[str, float], float]:
    """Per-token frequencies and the table's estimated row count, from the statistics."""
    now = time.monotonic()
    if now - _frequencies["at"] > _FREQUENCY_TTL:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs, "
                "(SELECT reltuples FROM pg_class WHERE relname = 'customers_customer') "
                "FROM pg_stats WHERE tablename = 'customers_customer_tokens_gin'"
            )
            row = cur.fetchone()
        freq = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
        _frequencies.update(at=now, freq=freq, rows=max(0.0, row[2] or 0.0) if row else 0.0)
    return _frequencies["freq"], _frequencies["rows"]


def _group_frequency(group: list[str], freq: dict[str, float]) -> float:
    """How often an AND-group matches, guessed from its tokens' frequencies. The bigrams of a
    Chinese term occur together, so the rarest one bounds the group; letter pairs of initials
    or pinyin are partly independent (their product is too low for company words such as
    集团 = jt+ty, the rarest pair too high for the rest), so they take the geometric mean."""
    values = [freq.get(token, 0.0) for token in group]
    if all(token.isascii() for token in group):
        return math.sqrt(min(values) * math.prod(values))
    return min(values)


# Measured at 1,000,000 rows: walking the primary key costs ~1.2 us a row (the token checks),
# ~0.45 us inside an owner's scope (most rows fail the owner check first); reading matches
# through the GIN index 5.5 us a match with its heap page in shared buffers, ~10 us when the
# page comes from the OS (one page each, then a sort in memory). The index is costed near the
# high end: a walk stops at its page and its window is bounded, an index read has neither.
WALK_ROW_COST, SCOPED_WALK_ROW_COST, INDEX_ROW_COST = 1.2, 0.45, 8.0
# The statistics misjudge how often a group's tokens occur together by up to 3x either way
# (initials pairs of company words), so they only rule out a first window when the index wins
# by more than that; the first window then measures the share of matches among the newest rows.
PROBE_MARGIN = 3.0
WINDOW_MARGIN = 1.5  # the next window holds 1.5 pages at the measured share
MAX_WINDOW = 100_000


def _worth_probing(groups: list[list[str]], page: int) -> bool:
    """Whether a first window can pay off by the index's statistics: a walk stops once it
    has found the page, so it costs the rows between matches; the index costs every match
    in the caller's scope."""
    freq, rows = _token_frequencies()
    if not freq:
        return True
    scope = _scope_tokens.get()
    share = min(1.0, sum(freq.get(token, 0.0) for token in scope)) if scope else 1.0
    expected = min(1.0, sum(_group_frequency(group, freq) for group in groups)) * share
    if expected <= 0:
        return False
    walk_cost = (page + 1) / expected * (SCOPED_WALK_ROW_COST if scope else WALK_ROW_COST)
    return walk_cost < INDEX_ROW_COST * rows * expected * PROBE_MARGIN


def _next_window(size: int, found: int, page: int, newest: int) -> int | None:
    """PostgreSQL, after a window of ``size`` ids held ``found`` matches (not a page): the
    window expected to hold a page at the share of matches just seen among the newest rows
    (what a walk meets, with every filter and the scope applied), or None when reading every
    match through the index costs less than walking that far."""
    if not found:
        return None
    share = found / size
    walk_rows = (page + 1) / share * WINDOW_MARGIN
    rows = _token_frequencies()[1] or newest
    walk_cost = walk_rows * (SCOPED_WALK_ROW_COST if _scope_tokens.get() else WALK_ROW_COST)
    if walk_rows > MAX_WINDOW or walk_cost >= INDEX_ROW_COST * rows * share:
        return None
    return int(walk_rows)


@contextlib.contextmanager
def _bound(var: ContextVar, value: Any) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def windowed_page(
    run: Callable[[], T],
    *,
    page_ids: Callable[[], list[int]],
    raw_query: str | None,
    ordering: str,
    before_id: int | None,
    page_size: int = 50,
) -> T:
    """Run one newest-first search page against a window of the newest candidates first.

    Common tokens are what make search slow: on SQLite ``id IN (all matches)`` materialises
    hundreds of thousands of FTS rowids (which FTS5 hands back newest-first in microseconds);
    on PostgreSQL the planner misjudges how often bigrams occur together and fetches every
    match for a top-N sort. A page drawn from a window of the newest candidates is exact when
    it comes back full with a row to spare (every older match sorts after it; ``is_complete``)
    or when the window holds every match; otherwise the window widens, and at last is dropped.

    ``page_ids`` gives the ids of the page and the row after it (newest first) under the
    current window; when they fill the page, ``run`` reads exactly those rows instead of
    walking the window a second time.
    """
    groups = text_search_plan(raw_query or "") if raw_query else []
    sizes = WINDOW_SIZES.get(connection.vendor, ())
    if not sizes or ordering != "-id" or not groups:
        return run()
    fallback = run  # SQLite: the FTS index hands matches back newest first on its own
    if connection.vendor == "postgresql":
        # Without a window (rare terms, or none filled the page) the GIN index answers.
        fallback = _index_read(run, page_ids)
        if not _worth_probing(groups, page_size):
            return fallback()  # the index fetches a few thousand rows at most: no window
        if before_id is None:
            before_id = _newest_id() + 1  # once for every window size
    size: int | None = sizes[0]
    while size:
        floor = _window_floor(groups, before_id, size)
        if floor is None:
            return fallback()  # fewer matches than the window: the plain query is cheap
        with _bound(_min_rowid, floor):
            ids = page_ids()
        if len(ids) > page_size:
            with _bound(_page_ids, ids):
                return run()
        if connection.vendor == "postgresql":
            size = _next_window(size, len(ids), page_size, before_id or 0)
        else:
            size = next((s for s in sizes if s > size), None)
    return fallback()


def _index_read(run: Callable[[], T], page_ids: Callable[[], list[int]]) -> Callable[[], T]:
    """``run`` on the page's ids as the GIN index alone finds them (see ``newest_first``):
    the ids first, then their rows by primary key."""

    def read() -> T:
        with _bound(_index_only, True):
            ids = page_ids()
        with _bound(_page_ids, ids):
            return run()

    return read


def apply_customer_search(qs: QuerySet, raw: str) -> QuerySet:
    """Search box semantics: exact phone or email, code prefix, else text and pinyin tokens."""
    from guanxi.core import search_keys
    from guanxi.core.crypto import blind_index
    from guanxi.core.validators import fold_text

    text = fold_text(raw or "")[:100]
    if not text:
        return qs
    if _is_phone(text):
        mobile, landline = _phone_candidates(text)
        phone_q = Q(pk__in=[])
        if mobile:
            phone_q |= Q(mobile_bidx=blind_index("mobile", mobile))
        if landline:
            phone_q |= Q(phone_bidx=blind_index("phone", landline))
        return qs.filter(phone_q)
    if "@" in text:
        return qs.filter(email_bidx=blind_index("email", text.lower()))
    upper = text.upper()
    if re.fullmatch(r"CUST\d{1,}", upper):
        return qs.filter(code__gte=upper, code__lt=upper + "\uffff")
    groups = search_keys.query_plan(text)
    qs, custom_text = _searchable_custom_text(qs)
    contains = Q(name__contains=text) | Q(contact_name__contains=text)
    for alias in custom_text:
        contains |= Q(**{f"{alias}__contains": text})
    if not groups:
        return qs.filter(contains)
    matched = qs.filter(token_filter(groups))
    normalized = search_keys.normalize(text)
    if (
        any(search_keys.is_cjk(ch) for ch in normalized)
        and len(normalized) > 2
        and text.lower() == normalized
    ):
        # Bigram ANDs over-match for 3+ characters; the substring check is exact and cheap on
        # the candidate rows the index already narrowed down to.
        matched = matched.filter(contains)
    return matched


def _searchable_custom_text(qs: QuerySet) -> tuple[QuerySet, list[str]]:
    """``qs`` with the text of each searchable custom field as an alias, and the aliases:
    their values are in the search tokens, so the exact recheck must look at them too."""
    from guanxi.core.custom_field_queries import text_of
    from guanxi.core.custom_fields import definitions, is_searchable

    aliases = []
    for field in definitions("customer"):
        if is_searchable(field):
            alias = f"_search_cf_{field.key}"
            qs = qs.alias(**{alias: text_of(field.key)})
            aliases.append(alias)
    return qs, aliases
