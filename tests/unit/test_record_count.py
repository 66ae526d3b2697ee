"""The independent record count: what Python's csv module makes of the whole file, line by line."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from loader.csv_reader import open_text, record_count


def csv_module_count(path: Path) -> int:
    """The definition: csv.reader over the whole file, blank lines not counted, header excluded."""
    with open_text(str(path)) as text:
        return max(sum(1 for record in csv.reader(text, strict=False) if record) - 1, 0)


TRICKY = [
    "",
    "h\n",
    "h1,h2\na,b\n",
    "h1,h2\na,b",  # no line end at the end
    "h1,h2\r\na,b\r\nc,d\r\n",
    "h1,h2\ra,b\rc,d\r",  # old Mac line ends
    "h1,h2\n\na,b\n\n\nc,d\n",  # blank lines
    'h1,h2\na,"x\ny"\nc,d\n',  # a quoted newline
    'h1,h2\na,"x\n\ny\n"\nc,d\n',  # blank lines inside a quoted field
    'h1,h2\na,"unclosed\nb,c\nd,e\n',  # a quote left open to the end
    'h1,h2\na,"x"y\nb,c\n',  # text after a closing quote
    'h1,h2\na"b,"c\nd",e\nf,g\n',  # a quote inside a field, then a quoted field across lines
    'h1,h2\na,""\n"",b\n"""",""""\n',
    'h1,h2\na,"x\r\ny"\r\nb,c\r\n',
    "h1,h2\na,b\rc,d\r\ne,f\n",  # mixed line ends
    "\ufeffh1,h2\na,\x00b\n",  # BOM, NUL
    'h1,h2\n"a\rb",c\n',
]


@pytest.mark.parametrize("text", TRICKY)
def test_the_count_is_the_csv_modules(tmp_path: Path, text: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode("utf-8"))
    assert record_count(str(path)) == csv_module_count(path)


def test_the_count_is_the_csv_modules_on_random_text(tmp_path: Path) -> None:
    pieces = ["a", "bc", ",", '"', '""', "\n", "\r", "\r\n", " ", "é", "\x00", "\n\n"]
    chooser = random.Random(20261127)
    path = tmp_path / "f.csv"
    for _ in range(2000):
        text = "".join(chooser.choice(pieces) for _ in range(chooser.randint(0, 40)))
        path.write_bytes(text.encode("utf-8") + (b"\xff" if chooser.random() < 0.1 else b""))
        assert record_count(str(path)) == csv_module_count(path), repr(text)
