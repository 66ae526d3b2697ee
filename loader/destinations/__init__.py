"""Where `load` lands export files: the interface between the pipeline (loader/landing.py) and a destination.

- duckdb.py: the sigma_raw tables of the DuckDB file (the default)
- lake.py: a Parquet lake on s3://, gs:// or file:// (`--lake-uri`)

The pipeline asks the destination which file versions it holds (`landed`: skipped while their etag is
the same), fetches each batch of the other files (`FetchedFile`: a local plain CSV and its header, or why
it cannot be read) and hands the batch to one of the destination's writers, which parses it (one pass,
csv_reader.land_records) and writes each file whole: its rows, its rejected records and one manifest row,
or for a file that cannot be read a `failed` manifest row and nothing else; then commits the batch.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from loader.csv_reader import FileRows, column_names
from loader.storage import ExportObject


@dataclass
class FileResult:
    """What landing one file gave, as the manifest records it."""

    uri: str
    status: str  # loaded | skipped | failed
    rows_loaded: int = 0
    rows_rejected: int = 0
    size_bytes: int = 0
    error: str | None = None


@dataclass(frozen=True)
class FetchedFile:
    """One file of a batch, fetched and its header read before the batch is written (so that all of the
    batch's columns are known first), or the reason it could not be read."""

    obj: ExportObject
    rows: FileRows  # its metadata values (uri, loaded_at, integration name)
    path: str | None  # local plain CSV (a gzip decompressed); None: the file could not be read
    headers: list[str]
    error: str | None

    @property
    def columns(self) -> list[str]:
        return column_names(self.headers)


class BatchWriter(Protocol):
    """Writes batches for one thread (its own connection and transaction)."""

    def adds_columns(self, files: list[FetchedFile]) -> bool:
        """Whether writing these files adds columns to the destination's tables: such a batch lands
        alone, after every earlier batch (see loader.landing.SchemaGate)."""
        ...

    def land(self, files: list[FetchedFile]) -> list[FileResult]:
        """Parse and write the batch, each file whole or recorded as failed, and commit it: one result
        per file, in order. Never raises for bad data; raises DatabaseError when the destination cannot
        be written."""
        ...


class Destination(Protocol):
    """Where a load lands its files."""

    batches_at_once: int  # batches that may land at the same time, each from its own thread

    def landed(self) -> dict[str, str]:
        """file_uri -> etag of every file landed successfully so far."""
        ...

    def writer(self) -> AbstractContextManager[BatchWriter]:
        """A writer for one batch, on one thread."""
        ...
