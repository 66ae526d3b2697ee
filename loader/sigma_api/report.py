"""The sync report: what one sync did, and what it dropped and why. `lines()` is what the
`inventory` command prints; `row()` is the sync's row in sigma_raw.inventory_syncs."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime

from loader.sigma_api.tables import SYNCS, Row


@dataclass(frozen=True)
class SkippedWorkbook:
    """A workbook whose pages or elements answered 403/404: its previous ones are kept."""

    workbook_id: str
    workbook_url_id: str
    name: str | None
    reason: str


@dataclass(frozen=True)
class SkippedTeam:
    """A team whose member list answered 403/404: its previous members are kept."""

    team_id: str
    name: str | None
    reason: str


@dataclass
class SyncReport:
    sync_id: str
    mode: str
    api_url: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"
    error: str | None = None
    workbooks_listed: int = 0
    workbooks_new: int = 0
    workbooks_changed: int = 0
    workbooks_unchanged: int = 0
    workbooks_fetched: int = 0
    workbooks_deleted: int = 0
    skipped_workbooks: list[SkippedWorkbook] = field(default_factory=list)
    pages_fetched: int = 0
    elements_fetched: int = 0
    members_listed: int = 0
    teams_listed: int = 0
    teams_deleted: int = 0
    skipped_teams: list[SkippedTeam] = field(default_factory=list)
    team_members_listed: int = 0
    entries_skipped: Counter[str] = field(default_factory=Counter)
    api_calls: int = 0
    retries: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def lines(self) -> list[str]:
        """The summary: parseable key=value pairs, then one line per skipped workbook, team or entry kind."""
        if not self.ok:
            return [f"inventory sync failed: {self.error}; the previous inventory is unchanged"]
        lines = [
            "inventory"
            f" mode={self.mode}"
            f" workbooks={self.workbooks_listed}"
            f" new={self.workbooks_new}"
            f" changed={self.workbooks_changed}"
            f" unchanged={self.workbooks_unchanged}"
            f" deleted={self.workbooks_deleted}"
            f" fetched={self.workbooks_fetched}"
            f" skipped={len(self.skipped_workbooks)}"
            f" pages={self.pages_fetched}"
            f" elements={self.elements_fetched}"
            f" members={self.members_listed}"
            f" teams={self.teams_listed}"
            f" teams_deleted={self.teams_deleted}"
            f" teams_skipped={len(self.skipped_teams)}"
            f" team_members={self.team_members_listed}"
            f" api_calls={self.api_calls}"
            f" retries={self.retries}"
        ]
        lines += [
            f"skipped workbook {s.workbook_url_id} ({s.name or s.workbook_id}): {s.reason}; "
            "its previous pages and elements are kept"
            for s in self.skipped_workbooks
        ]
        lines += [
            f"skipped team {s.team_id}{f' ({s.name})' if s.name else ''}: {s.reason}; its previous members are kept"
            for s in self.skipped_teams
        ]
        lines += [
            f"skipped {n} entr{'y' if n == 1 else 'ies'}: {why}" for why, n in sorted(self.entries_skipped.items())
        ]
        return lines

    def row(self) -> Row:
        """The sync's row: every column of inventory_syncs (tables.SYNCS), in its order; a column
        is the field of the same name unless computed here."""
        computed = {
            "workbooks_skipped": len(self.skipped_workbooks),
            "skipped_workbooks": json.dumps([asdict(s) for s in self.skipped_workbooks]),
            "teams_skipped": len(self.skipped_teams),
            "skipped_teams": json.dumps([asdict(s) for s in self.skipped_teams]),
            "entries_skipped": sum(self.entries_skipped.values()),
            "entries_skipped_reasons": json.dumps(dict(self.entries_skipped), sort_keys=True),
        }
        return {name: computed[name] if name in computed else getattr(self, name) for name in SYNCS.column_names}
