"""The documentation's links: every relative link in README.md and docs/*.md names a file of the
checkout, and a `#anchor` into a markdown file names one of its headings (GitHub's slug rule). The
README stays the front door: at most README_MAX_LINES lines.

Links are markdown inline links and images (`[text](target)`, `![alt](target)`) and reference
definitions (`[label]: target`), outside fenced code blocks and inline code. Links with a scheme
(https:, mailto:) are not checked.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[2]
README_MAX_LINES = 200
PAGES = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+).*?\1")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def links(page: Path) -> list[tuple[int, str]]:
    """(line number, target) of every link on the page, inline code left out."""
    found = []
    for number, line in _prose_lines(page.read_text(encoding="utf-8")):
        reference = REFERENCE_LINK.match(line)
        if reference:
            found.append((number, reference.group(1)))
            continue
        found += [(number, match.group(1)) for match in INLINE_LINK.finditer(INLINE_CODE.sub("", line))]
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text of links and markup kept, lower-cased, every character
    but letters, digits, spaces, '-' and '_' dropped, spaces turned into '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    """The anchors GitHub gives the page's headings (a repeated slug gets -1, -2, ...)."""
    seen: Counter[str] = Counter()
    found = set()
    for _, line in _prose_lines(page.read_text(encoding="utf-8")):
        heading = HEADING.match(line)
        if not heading:
            continue
        base = slug(heading.group(2))
        found.add(base if not seen[base] else f"{base}-{seen[base]}")
        seen[base] += 1
    return frozenset(found)


def broken(page: Path, target: str) -> str | None:
    """Why a link target does not resolve, or None."""
    if SCHEME.match(target):
        return None
    path_part, _, anchor = target.partition("#")
    resolved = (page.parent / unquote(path_part)).resolve() if path_part else page
    if not resolved.exists():
        return f"no file {path_part}"
    if path_part and REPO not in (resolved, *resolved.parents):
        return f"{path_part} is outside the checkout"
    if anchor and resolved.suffix == ".md" and unquote(anchor) not in anchors(resolved):
        return f"no heading #{anchor} in {resolved.name}"
    return None


def test_the_pages_exist() -> None:
    assert REPO / "README.md" in PAGES
    assert len(PAGES) > 1, "docs/ has no markdown page"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_every_relative_link_resolves(page: Path) -> None:
    problems = [
        f"{page.relative_to(REPO)}:{number}: ({target}) {why}"
        for number, target in links(page)
        if (why := broken(page, target))
    ]
    assert not problems, "\n".join(problems)


def test_the_readme_is_short() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines: move detail to docs/"


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Point it at your exports (S3, GCS or a folder)", "point-it-at-your-exports-s3-gcs-or-a-folder"),
        ("What `load` guarantees", "what-load-guarantees"),
        ("The dbt ecosystem: freshness, exposures", "the-dbt-ecosystem-freshness-exposures"),
        ("Where to change what", "where-to-change-what"),
        ("sigma_raw.loaded_files -> marts", "sigma_rawloaded_files---marts"),
        ("[The lake](lake-and-spark.md) and Spark", "the-lake-and-spark"),
    ],
)
def test_slugs_follow_github(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n[ok](#title) [bad anchor](#nope) [no file](missing.md) [web](https://example.com)\n"
        "`[in code](missing-too.md)`\n\n```\n[fenced](missing-three.md)\n```\n",
        encoding="utf-8",
    )
    assert [target for _, target in links(page)] == ["#title", "#nope", "missing.md", "https://example.com"]
    assert broken(page, "#title") is None
    assert broken(page, "#nope") is not None
    assert broken(page, "missing.md") is not None
    assert broken(page, "https://example.com") is None
