"""Reading subscriber lists: validation with line numbers, nothing half-done."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from newsletter.delivery.message import InvalidAddress, check_address
from newsletter.text import collapse


@dataclass(frozen=True)
class Row:
    line: int
    email: str
    name: str


def parse_csv(text: str) -> tuple[list[Row], list[str]]:
    """Rows ``email[,name]`` (an optional header row naming 'email' is skipped);
    returns the valid rows (first occurrence of each address) and one message
    per bad line, naming its line number."""
    rows: list[Row] = []
    errors: list[str] = []
    seen: set[str] = set()
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    for record in reader:
        line = reader.line_num
        if not record or not "".join(record).strip() or record[0].lstrip().startswith("#"):
            continue
        if line == 1 and record[0].strip().lower() in ("email", "e-mail", "address", "email address"):
            continue
        raw = record[0].strip()
        try:
            address = check_address(raw)
        except InvalidAddress as exc:
            errors.append(f"line {line}: {exc}")
            continue
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        rows.append(Row(line, address, collapse(record[1]) if len(record) > 1 else ""))
    return rows, errors
