"""One merge of a sync's rows with the previous ones, the same for every resource kind.

Rules (each table's key, parent and deleted_at come from its layout in tables.py):
- A synced row replaces the previous row of its key. It keeps the previous `first_synced_at`
  (now when the key is new), gets `last_synced_at` = now and, where the table has `deleted_at`,
  a cleared `deleted_at` (an object back from deleted is live again).
- A previous row this sync did not list:
  - stays as it was when its parent object was listed but not read this sync (a workbook whose
    pages were not fetched, a workbook or team that answered 403/404);
  - otherwise its source no longer lists it: a table with `deleted_at` keeps it, marked deleted
    (the first sync that missed it sets the time; later ones keep it); a table without
    `deleted_at` (the current state, e.g. team memberships) drops it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from loader.sigma_api.tables import Key, Row, Table


@dataclass(frozen=True)
class Merged:
    rows: list[Row]
    # Rows live before this sync that it marked deleted.
    deleted: int


def merge(
    table: Table,
    synced: Iterable[Row],
    previous: Mapping[Key, Row],
    now: datetime,
    unread: Collection[str] = (),
) -> Merged:
    """The table's rows after this sync. `unread`: ids (in the table's `parent` column) of the
    objects listed this sync whose own lists were not read."""
    if unread and table.parent is None:
        raise ValueError(f"{table.name} has no parent column: nothing can be left unread")
    rows: dict[Key, Row] = {}
    for row in synced:
        key = table.key_of(row)
        before = previous.get(key)
        merged = {**row, "first_synced_at": before["first_synced_at"] if before else now, "last_synced_at": now}
        if table.keeps_vanished:
            merged["deleted_at"] = None
        rows[key] = merged
    deleted = 0
    for key, before in previous.items():
        if key in rows:
            continue
        if table.parent is not None and before[table.parent] in unread:
            rows[key] = before
        elif table.keeps_vanished:
            deleted += before["deleted_at"] is None
            rows[key] = {**before, "deleted_at": before["deleted_at"] or now}
    return Merged(rows=list(rows.values()), deleted=deleted)
