"""Full-text search of customers by token index, one interface over two databases.

``search_tokens`` (built by core.search_keys) holds unigrams, bigrams, pinyin pairs and
initials pairs. SQLite indexes it with an FTS5 table (unicode61 tokens, kept current by
triggers); PostgreSQL with a GIN index over ``string_to_array(search_tokens, ' ')``. Neither
depends on the database's locale. A query becomes an OR of AND-groups of tokens.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan

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
POSTGRES_SETUP = [
    "CREATE INDEX IF NOT EXISTS customers_customer_tokens_gin ON customers_customer "
    "USING gin (string_to_array(search_tokens, ' '))",
    # Per-token frequencies for the planner: with the default 100 every token outside the top
    # 1,000 is guessed at 0.5% of the table, and rare tokens go down the slow path.
    "ALTER INDEX customers_customer_tokens_gin ALTER COLUMN 1 SET STATISTICS 1000",
]
POSTGRES_TEARDOWN = ["DROP INDEX IF EXISTS customers_customer_tokens_gin"]


def install(schema_editor: object = None) -> None:
    """Create the vendor-specific index (called by a migration and by the benchmark)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            columns = {
                c.name
                for c in connection.introspection.get_table_description(cur, "customers_customer")
            }
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
WINDOW_SIZES = {"sqlite": (1_000, 20_000), "postgresql": (5_000, 25_000)}
T = TypeVar("T")


def token_filter(groups: list[list[str]]) -> Q:
    """A Q matching rows whose tokens satisfy any AND-group (empty plan matches nothing)."""
    if not groups:
        return Q(pk__in=[])
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
    # that can match; the GIN path needs no recheck and barely notices them. (strpos, not LIKE:
    # the planner guesses LIKE '%x%' on this column far too rare and then joins badly.)
    q = Q()
    walk = _min_rowid.get()
    if walk is not None:
        # Inside a window, walk the id range: the expression no longer matches the GIN index,
        # whose estimates for ANDed bigrams (which occur together) can be 1,000x too low.
        q = Q(pk__gte=walk)
    groups_q = Q()
    for group in groups:
        # Column references go through the compiler, so the filter also holds when the list
        # is a subquery (``pk__in=list.values("pk")``), where the table has an alias.
        prechecks = [GreaterThan(StrIndex("search_tokens", Value(token)), 0) for token in group]
        groups_q |= Q(*prechecks, _TokensContain("search_tokens", group, walk=walk is not None))
    return q & groups_q


class _TokensContain(Func):
    """``string_to_array(search_tokens, ' ') @> tokens``: the expression the GIN index holds
    (or, with ``walk``, one it does not, so the planner walks the id range instead)."""

    output_field = BooleanField()

    def __init__(self, column: str, tokens: list[str], *, walk: bool) -> None:
        super().__init__(F(column))
        self.tokens, self.walk = list(tokens), walk

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple]:  # type: ignore[override]
        column, params = compiler.compile(self.source_expressions[0])
        if self.walk:
            column = f"({column} || '')"
        return f"string_to_array({column}, ' ') @> %s::text[]", (*params, self.tokens)


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
RARE_FREQUENCY = 0.003
_FREQUENCY_TTL = 600.0
_frequencies: dict[str, Any] = {"at": -_FREQUENCY_TTL, "freq": {}}


def _token_frequencies() -> dict[str, float]:
    now = time.monotonic()
    if now - _frequencies["at"] > _FREQUENCY_TTL:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                "WHERE tablename = 'customers_customer_tokens_gin'"
            )
            row = cur.fetchone()
        freq = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
        _frequencies.update(at=now, freq=freq)
    return _frequencies["freq"]


def _all_rare(groups: list[list[str]]) -> bool:
    """Whether every AND-group holds a token too rare to fill a page by walking (tokens
    missing from the statistics are rarer than the rarest one listed)."""
    freq = _token_frequencies()
    if not freq:
        return False
    return all(min(freq.get(token, 0.0) for token in group) < RARE_FREQUENCY for group in groups)


@contextlib.contextmanager
def _window(floor: int | None) -> Iterator[None]:
    token = _min_rowid.set(floor)
    try:
        yield
    finally:
        _min_rowid.reset(token)


def windowed_page(
    run: Callable[[], T],
    *,
    fills_page: Callable[[], bool],
    raw_query: str | None,
    ordering: str,
    before_id: int | None,
) -> T:
    """Run one newest-first search page against a window of the newest candidates first.

    Common tokens are what make search slow: on SQLite ``id IN (all matches)`` materialises
    hundreds of thousands of FTS rowids (which FTS5 hands back newest-first in microseconds);
    on PostgreSQL the planner misjudges how often bigrams occur together and fetches every
    match for a top-N sort. A page drawn from a window of the newest candidates is exact when
    it comes back full with a row to spare (every older match sorts after it; ``is_complete``)
    or when the window holds every match; otherwise the window widens, and at last is dropped.
    """
    groups = text_search_plan(raw_query or "") if raw_query else []
    sizes = WINDOW_SIZES.get(connection.vendor, ())
    if not sizes or ordering != "-id" or not groups:
        return run()
    if connection.vendor == "postgresql":
        if _all_rare(groups):
            return run()  # the GIN index fetches a few thousand rows at most: no window needed
        if before_id is None:
            before_id = _newest_id() + 1  # once for every window size
    for size in sizes:
        floor = _window_floor(groups, before_id, size)
        if floor is None:
            return run()  # fewer matches than the window: the plain query is cheap
        with _window(floor):
            if fills_page():
                return run()
    return run()


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
