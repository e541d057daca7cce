"""Cells of the CSV files the app hands out, made safe for spreadsheets.

A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
as a formula by Excel, LibreOffice and Google Sheets (``=HYPERLINK("http://evil", "x")``
sends the reader off-site, DDE formulas run programs). Every CSV writer of the app passes its
text cells through :func:`safe_cell`, which puts an apostrophe in front, as OWASP
recommends; numbers stay numbers. :func:`unsafe_cell` undoes it when a CSV export is
imported again, so an export → import round trip keeps the names exactly.
"""

from __future__ import annotations

from typing import Any

#: The first characters that make a spreadsheet treat a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(text: str) -> bool:
    # Also quote text that already starts with apostrophes before a formula character, so
    # unsafe_cell(safe_cell(x)) == x for every x.
    return text.lstrip("'").startswith(FORMULA_START)


def safe_cell(value: Any) -> Any:
    """``value`` for a CSV cell: text that a spreadsheet would run as a formula gets a
    leading ``'``; anything that is not text (numbers, negative ones too, None) is returned
    unchanged."""
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def unsafe_cell(value: Any) -> Any:
    """The inverse of :func:`safe_cell`, for reading back a CSV the app wrote."""
    if isinstance(value, str) and value.startswith("'") and _needs_quote(value[1:]):
        return value[1:]
    return value
