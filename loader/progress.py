"""Progress output for `load`: a bar over files and bytes on a terminal, plain lines otherwise."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TextIO

from loader.config import LoadConfig
from loader.destinations import FileResult
from loader.secrets import scrub
from loader.storage import ExportObject


class LineProgress:
    """Quiet, parseable output for logs and orchestrators: one line per landed or failed file."""

    def __init__(self, stream: TextIO, config: LoadConfig) -> None:
        self.stream, self.config = stream, config

    def start(self, todo: list[ExportObject]) -> None:
        pass

    def stop(self) -> None:
        pass

    def file_done(self, obj: ExportObject, result: FileResult) -> None:
        detail = (
            f"error={result.error}"
            if result.status == "failed"
            else f"rows={result.rows_loaded} rejected_lines={result.rows_rejected}"
        )
        print(scrub(f"{result.status} {obj.uri} {detail}", self.config.secrets()), file=self.stream)


class BarProgress(LineProgress):
    """A rich progress bar over files and bytes, for people at a terminal."""

    def __init__(self, stream: TextIO, config: LoadConfig) -> None:
        super().__init__(stream, config)
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        self.bar = RichProgress(
            TextColumn("[bold]landing"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("files"),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream),
            transient=True,
        )
        self.bytes_task = self.bar.add_task("bytes", total=0)
        self.files_total = 0
        self.files_done = 0

    def start(self, todo: list[ExportObject]) -> None:
        self.bar.start()
        self.bar.update(self.bytes_task, total=sum(o.size_bytes for o in todo) or 1)

    def file_done(self, obj: ExportObject, result: FileResult) -> None:
        self.bar.advance(self.bytes_task, obj.size_bytes)
        if result.status == "failed":
            self.bar.console.print(
                scrub(f"[red]failed[/red] {obj.uri}: {result.error}", self.config.secrets()),
                markup=True,
                highlight=False,
            )

    def stop(self) -> None:
        self.bar.stop()


@contextlib.contextmanager
def make_progress(stream: TextIO, config: LoadConfig) -> Iterator[LineProgress]:
    if not stream.isatty():
        yield LineProgress(stream, config)
        return
    progress = BarProgress(stream, config)
    try:
        yield progress
    finally:
        progress.stop()
