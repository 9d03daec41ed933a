"""Record ids as they arrive in paths, query strings and form fields."""

from __future__ import annotations

# Every number of up to 18 digits fits a bigint; longer ones are no id of ours.
MAX_ID_DIGITS = 18
# The largest id an integer query parameter accepts (a bound, so a larger one is a 422 and
# never reaches the database driver, which cannot bind it).
MAX_ID = 2**62


def parse_id(value: object) -> int | None:
    """``value`` as a record id when it is written in ASCII digits (at most 18), else None.

    ``str.isdigit`` alone is not enough: it admits superscripts and other digit-like
    characters ("¹", "²") that ``int`` refuses, and such ids turned into server errors."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS:
        return int(text)
    return None
