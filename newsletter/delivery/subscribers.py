"""Reading subscriber lists: validation with line numbers, nothing half-done.

``email[,name]`` per line, or with a header row naming its columns:
``email``, ``name``, ``categories``, ``keywords``, ``authors``, ``max_papers``,
``frequency`` (lists inside a field are comma-separated, so quote them)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from newsletter.delivery.message import InvalidAddress, check_address
from newsletter.delivery.preferences import BadPreference, Preferences, parse
from newsletter.text import collapse

PREF_COLUMNS = ("categories", "keywords", "authors", "max_papers", "frequency")


@dataclass(frozen=True)
class Row:
    line: int
    email: str
    name: str
    prefs: Preferences | None = None


def parse_csv(text: str, allowed_categories: list[str] | None = None) -> tuple[list[Row], list[str]]:
    """The valid rows (first occurrence of each address) and one message per
    bad line, naming its line number."""
    rows: list[Row] = []
    errors: list[str] = []
    seen: set[str] = set()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header: list[str] | None = None
    for record in reader:
        line = reader.line_num
        if not record or not "".join(record).strip() or record[0].lstrip().startswith("#"):
            continue
        if line == 1 and record[0].strip().lower() in ("email", "e-mail", "address", "email address"):
            header = [c.strip().lower() for c in record]
            continue
        fields = dict(zip(header, record)) if header else {"email": record[0], "name": record[1] if len(record) > 1
                                                            else ""}
        try:
            address = check_address(fields.get("email") or fields.get("e-mail") or fields.get("address") or
                                     fields.get("email address") or "")
            prefs = None
            if header and any(c in header for c in PREF_COLUMNS):
                prefs = parse(categories=fields.get("categories") or "", keywords=fields.get("keywords") or "",
                              authors=fields.get("authors") or "", max_papers=fields.get("max_papers") or None,
                              frequency=fields.get("frequency") or None, allowed=allowed_categories)
        except (InvalidAddress, BadPreference) as exc:
            errors.append(f"line {line}: {exc}")
            continue
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        rows.append(Row(line, address, collapse(fields.get("name") or ""), prefs))
    return rows, errors
