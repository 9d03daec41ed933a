"""Full-text search of customers by token index, one interface over two databases.

``search_tokens`` (built by core.search_keys) holds unigrams, bigrams, pinyin pairs and
initials pairs. SQLite indexes it with an FTS5 table (unicode61 tokens, kept current by
triggers); PostgreSQL with a GIN index over ``string_to_array(search_tokens, ' ')``. Neither
depends on the database's locale. A query becomes an OR of AND-groups of tokens.
"""

from __future__ import annotations

import contextlib

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

FTS_TABLE = "customers_customer_fts"

SQLITE_SETUP = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "search_tokens, content='customers_customer', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0', detail=none)",
    f"""CREATE TRIGGER IF NOT EXISTS customers_customer_fts_ai AFTER INSERT ON customers_customer
    BEGIN INSERT INTO {FTS_TABLE}(rowid, search_tokens) VALUES (new.id, new.search_tokens); END""",
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
]
POSTGRES_TEARDOWN = ["DROP INDEX IF EXISTS customers_customer_tokens_gin"]


def install(schema_editor: object = None) -> None:
    """Create the vendor-specific index (called by a migration and by the benchmark)."""
    statements = SQLITE_SETUP if connection.vendor == "sqlite" else POSTGRES_SETUP
    with connection.cursor() as cur:
        for sql in statements:
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


def token_filter(groups: list[list[str]]) -> Q:
    """A Q matching rows whose tokens satisfy any AND-group (empty plan matches nothing)."""
    if not groups:
        return Q(pk__in=[])
    if connection.vendor == "sqlite":
        sub = RawSQL(
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",
            (_fts_expression(groups),),
        )
        return Q(pk__in=sub)
    # The condition sits on the list's own table (not a semi-join), so the planner can pick
    # a backward primary-key walk for common tokens and the GIN index for rare ones.
    q = Q()
    for group in groups:
        q |= Q(
            RawSQL(
                "string_to_array(customers_customer.search_tokens, ' ') @> %s::text[]",
                (list(group),),
                output_field=BooleanField(),
            )
        )
    return q


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


def apply_customer_search(qs: QuerySet, raw: str) -> QuerySet:
    """Search box semantics: exact phone or email, code prefix, else text and pinyin tokens."""
    import re

    from guanxi.core import search_keys
    from guanxi.core.crypto import blind_index
    from guanxi.core.validators import fold_text

    text = fold_text(raw or "")[:100]
    if not text:
        return qs
    compact = re.sub(r"[\s\-()]", "", text)
    if re.fullmatch(r"\+?\d{7,}", compact) or re.fullmatch(r"\d{3,4}-\d{7,8}(-\d+)?", text):
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
    if not groups:
        return qs.filter(Q(name__contains=text) | Q(contact_name__contains=text))
    matched = qs.filter(token_filter(groups))
    normalized = search_keys.normalize(text)
    if (
        any(search_keys.is_cjk(ch) for ch in normalized)
        and len(normalized) > 2
        and text.lower() == normalized
    ):
        # Bigram ANDs over-match for 3+ characters; the substring check is exact and cheap on
        # the candidate rows the index already narrowed down to.
        matched = matched.filter(Q(name__contains=text) | Q(contact_name__contains=text))
    return matched
