"""Trimming, request_time and count parsing: DuckDB's own form of the rule equals the portable form and an independent
Python reading of the rule, text for text, over a large generated set of valid and invalid texts.

Both SQL expressions are compiled by dbt from this project's macros (`sigma_parse_timestamp`, which
dispatches to `duckdb__sigma_parse_timestamp` on DuckDB, and `default__sigma_parse_timestamp`, the
portable form other adapters run), then evaluated by DuckDB over the texts. The rule (from the
macro's comment): `YYYY-MM-DD`, `T` or space, `HH:MM[:SS[.fraction]]`, then optionally (after at most
one space) `Z`, `UTC`, `+HH`, `+HHMM` or `+HH:MM` (or `-`); any case; a real calendar date, hours
00-23, minutes and seconds 00-59, offset hours 00-23, offset minutes 00-59; the fraction truncated
to microseconds; the offset applied; anything else NULL.
"""

from __future__ import annotations

import json
import random
import re
from itertools import product
from pathlib import Path

import duckdb
import pytest

from tests.helpers.dbt_project import run_dbt

pytestmark = pytest.mark.dbt

COLUMN = "request_time_text"
BIGINT_MAX = 2**63 - 1
RULE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:\.([0-9]+))?)?"
    r" ?(?:[Zz]|[Uu][Tt][Cc]|([+-])([0-9]{2})(?::?([0-9]{2}))?)?"
)
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar, year 0 = 1 BC (as DuckDB counts)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def expected_epoch_us(text: str | None) -> int | None:
    """The rule read independently of both SQL forms: microseconds since the epoch (UTC), or None."""
    match = RULE.fullmatch(text) if text is not None else None
    if match is None:
        return None
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    fraction = (match.group(7) or "")[:6].ljust(6, "0")
    offset_hours, offset_minutes = int(match.group(9) or 0), int(match.group(10) or 0)
    if not 1 <= month <= 12:
        return None
    month_days = 29 if month == 2 and _is_leap(year) else MONTH_DAYS[month - 1]
    if not (1 <= day <= month_days and hour <= 23 and minute <= 59 and second <= 59):
        return None
    if offset_hours > 23 or offset_minutes > 59:
        return None
    seconds = _days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    offset = (offset_hours * 60 + offset_minutes) * (-1 if match.group(8) == "+" else 1)
    return (seconds + offset * 60) * 1_000_000 + int(fraction)


YEARS = ["0000", "0001", "0004", "0100", "0400", "1582", "1900", "1999", "2000", "2023", "2024", "2100", "2400", "9999"]
MONTHS = ["00", "01", "02", "03", "04", "06", "09", "11", "12", "13", "1", "99"]
DAYS = ["00", "01", "28", "29", "30", "31", "32", "1"]
SEPARATORS = ["T", "t", " ", "  ", "_", "", "\t"]
HOURS_MINUTES = ["00:00", "23:59", "24:00", "12:60", "1:00", "12:5", "09:30"]
SECONDS = ["", ":00", ":59", ":60", ":5", ":", ":123"]
FRACTIONS = [""] + ["." + "123456789012"[:n] for n in range(1, 13)] + [".", ".999999999", ".0000009", ".5a", ".9999995"]
SPACES = ["", " ", "  ", "\t"]
ZONES = [
    *("", "z", "Z", "utc", "UTC", "Utc", "uTc", "gmt", "zz", "u", "ut", "utcz"),
    *("+00", "-00", "+23", "-23", "+24", "+0530", "-0530", "+05:30", "-05:30", "+23:59", "-23:59"),
    *("+23:60", "+2360", "+5", "+05:3", "+05:", "+053", "+05:30z", "-", "+", "+-05", "05:30"),
]
TRAILERS = ["", "x", " ", "0", "\n"]
ODD = [
    None,
    "",
    " ",
    "2026-11-27",
    " 2026-11-27 10:00",
    "2026-11-27 10:00 ",
    "2026-11-27\n10:00",
    "2026-11-27 10:00:00." + "7" * 1000,
    "\uff12\uff10\uff12\uff16-11-27 10:00",
    "2026-11-27\uff3410:00",
    "2026-11-27 10:00\uff3a",
    "2026-11-27 10:00 \u212a",
    "2026-11-27 10:00 \u0130",
    "2026-11-27 10:00 \u017f",
    "\u0662\u0660\u0662\u0666-11-27 10:00",
    "2026-11-27 10:00:00.5 U\u0054C",
    "2026-11-27 10:00:00.5 \u0075tc",
    "2026-11-27 10:00:00.5 UT\u0421",
    "2026-11-27 1\u00b9:00",
]


def corpus() -> list[str | None]:
    """Generated texts: calendar edges, time and fraction forms, every zone form with and without
    spaces and trailing garbage, random one-character edits of valid texts, and odd characters."""
    texts: set[str | None] = set(ODD)
    for year, month, day in product(YEARS, MONTHS, DAYS):
        for tail in ("T12:34:56Z", " 00:00", "T23:59:59.999999-23:59", "t00:00+23:59", " 12:00 +0100"):
            texts.add(f"{year}-{month}-{day}{tail}")
    for date, separator, hour_minute, second, fraction in product(
        ["2024-02-29", "2023-02-28", "0000-02-29", "9999-12-31", "0000-01-01"],
        SEPARATORS,
        HOURS_MINUTES,
        SECONDS,
        FRACTIONS,
    ):
        for zone in ("", "Z", " utc", "-01:30"):
            texts.add(f"{date}{separator}{hour_minute}{second}{fraction}{zone}")
    for date, separator, hour_minute, second, fraction, space, zone, trailer in product(
        ["2024-02-29", "9999-12-31"],
        ["T", " ", "t"],
        ["23:59", "00:00"],
        ["", ":59", ":00"],
        ["", ".5", ".123456", ".1234567", "."],
        SPACES,
        ZONES,
        TRAILERS,
    ):
        texts.add(f"{date}{separator}{hour_minute}{second}{fraction}{space}{zone}{trailer}")
    generator = random.Random(20261127)
    valid = sorted(text for text in texts if expected_epoch_us(text) is not None)
    alphabet = "0123456789-:.+ TtZzUuCcx\t"
    for _ in range(40000):
        text = list(generator.choice(valid))
        position = generator.randrange(len(text) + 1)
        edit = generator.randrange(3)
        if edit == 0 and position < len(text):
            text[position] = generator.choice(alphabet)
        elif edit == 1 and position < len(text):
            del text[position]
        else:
            text.insert(position, generator.choice(alphabet))
        texts.add("".join(text))
    return sorted(texts, key=lambda text: (text is None, text or ""))


MACROS = {
    "timestamp": ("sigma_parse_timestamp", "request_time_text"),
    "timestamp_portable": ("sigma_impressions.default__sigma_parse_timestamp", "request_time_text"),
    "count": ("sigma_parse_count", "count_text"),
    "count_portable": ("sigma_impressions.default__sigma_parse_count", "count_text"),
    "trim": ("sigma_trim", "raw_text"),
}


def _compiled_expressions(tmp_path: Path) -> dict[str, str]:
    """Each macro's SQL as dbt compiles it for DuckDB, between marker comments."""
    sql = "select " + ", ".join(
        f"/*<{name}>*/ {{{{ {macro}('{column}') }}}} /*</{name}>*/" for name, (macro, column) in MACROS.items()
    )
    result = run_dbt(
        ["compile", "--inline", sql, "--output", "json", "--log-format", "text"],
        tmp_path / "compile.duckdb",
        tmp_path / "dbt",
    )
    compiled = json.loads(result.stdout[result.stdout.index("{") : result.stdout.rindex("}") + 1])["compiled"]
    return {name: compiled.split(f"/*<{name}>*/")[1].split(f"/*</{name}>*/")[0].strip() for name in MACROS}


def _write_cases(path: Path, text_column: str, texts: list, expected_column: str, expected: list) -> Path:
    """The texts and their expected values, one JSON object per line (read back with read_json)."""
    with path.open("w", encoding="utf-8") as out:
        for text, value in zip(texts, expected, strict=True):
            out.write(json.dumps({text_column: text, expected_column: value}) + "\n")
    return path


@pytest.fixture(scope="module")
def expressions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _compiled_expressions(tmp_path_factory.mktemp("parsing_forms"))


def test_duckdb_forms_are_their_own(expressions: dict[str, str]) -> None:
    # DuckDB's forms: the common text through DuckDB's own cast, any other through the portable form.
    assert expressions["timestamp"].startswith("case\n        when regexp_full_match(request_time_text,")
    assert "try_cast(request_time_text as timestamp)" in expressions["timestamp"]
    assert expressions["timestamp_portable"] in expressions["timestamp"] != expressions["timestamp_portable"]
    assert "regexp_extract" in expressions["timestamp_portable"]
    assert expressions["count_portable"] in expressions["count"] != expressions["count_portable"]


def test_duckdb_and_portable_forms_equal_the_rule(expressions: dict[str, str], tmp_path: Path) -> None:
    dispatched, portable = expressions["timestamp"], expressions["timestamp_portable"]
    texts = corpus()
    expected = [expected_epoch_us(text) for text in texts]
    valid = sum(value is not None for value in expected)
    assert valid > 15_000 and len(texts) - valid > 100_000
    rows = _write_cases(tmp_path / "texts.ndjson", COLUMN, texts, "expected_us", expected)
    with duckdb.connect() as con:
        # The result is UTC whatever the session's time zone (a half-hour zone, not the machine's).
        con.execute("set TimeZone = 'Asia/Kolkata'")
        con.execute(
            "create table texts as select * from read_json(?, format = 'newline_delimited', "
            f"columns = {{{COLUMN}: 'varchar', expected_us: 'bigint'}})",
            [str(rows)],
        )
        assert con.execute("select count(*) from texts").fetchone()[0] == len(texts)
        differences = con.execute(
            f"""
            select {COLUMN}, expected_us, epoch_us(duckdb_form) as duckdb_us, epoch_us(portable_form) as portable_us
            from (select *, {dispatched} as duckdb_form, {portable} as portable_form from texts)
            where epoch_us(duckdb_form) is distinct from expected_us
                or epoch_us(portable_form) is distinct from expected_us
            order by all
            limit 20
            """
        ).fetchall()
        parsed_before_1970 = con.execute(f"select count(*) from texts where {dispatched} < timestamp '1970-01-01'")
        assert parsed_before_1970.fetchone()[0] > 1000
    assert differences == [], f"texts parsed differently (text, rule, duckdb form, portable form): {differences}"


def expected_count(text: str | None) -> int | None:
    """The count rule read independently: missing or empty is 1; digits optionally followed by `.`
    and zeros, from 1 to the BIGINT maximum; else None."""
    if text is None or text == "":
        return 1
    match = re.fullmatch(r"([0-9]+)(?:\.0+)?", text)
    value = int(match.group(1)) if match else 0
    return value if 1 <= value <= BIGINT_MAX else None


def count_corpus() -> list[str | None]:
    digits = ["0", "1", "5", "01", "007", "10", "99", "100"]
    digits += ["9" * n for n in range(15, 21)] + ["1" + "0" * n for n in range(15, 21)]
    digits += [str(BIGINT_MAX), str(BIGINT_MAX + 1), "0" + str(BIGINT_MAX), str(BIGINT_MAX)[:-1] + "6", "0" * 25]
    suffixes = ["", ".0", ".00", ".", ".5", ".01", "e3", " ", "x", ".0 "]
    texts: set[str | None] = {None, "", " ", ".0", "-1", "+1", "-0", " 1", "1 ", "1,000", "\uff11", "\u0661", "1\n"}
    for value, suffix in product(digits, suffixes):
        texts.update({value + suffix, "-" + value + suffix, "+" + value + suffix})
    generator = random.Random(27)
    for _ in range(20000):
        texts.add("".join(generator.choice("0000123456789.e-+ ") for _ in range(generator.randrange(1, 22))))
    return sorted(texts, key=lambda text: (text is None, text or ""))


def test_duckdb_and_portable_count_forms_equal_the_rule(expressions: dict[str, str], tmp_path: Path) -> None:
    texts = count_corpus()
    expected = [expected_count(text) for text in texts]
    valid = sum(value is not None for value in expected)
    assert valid > 1000 and len(texts) - valid > 10_000
    rows = _write_cases(tmp_path / "counts.ndjson", "count_text", texts, "expected", expected)
    with duckdb.connect() as con:
        differences = con.execute(
            f"""
            select count_text, expected, duckdb_form, portable_form
            from (
                select *, {expressions["count"]} as duckdb_form, {expressions["count_portable"]} as portable_form
                from read_json(
                    ?, format = 'newline_delimited', columns = {{count_text: 'varchar', expected: 'hugeint'}}
                )
            )
            where duckdb_form is distinct from expected or portable_form is distinct from expected
            order by all
            limit 20
            """,
            [str(rows)],
        ).fetchall()
    assert differences == [], f"counts parsed differently (text, rule, duckdb form, portable form): {differences}"


TRIMMED = " \t\n\r\x0b\x0c"


def trim_corpus() -> list[str | None]:
    """Texts with every trimmed character and look-alikes that are not trimmed (no-break space,
    other Unicode spaces, NUL, U+0021), at the start, the end, inside, alone and combined."""
    pieces = [*TRIMMED, "\x00", "\x1f", "!", "\xa0", "\u2003", "\u3000", "\u0301", "\U0001f600", "a", "Z", "\r\n"]
    ends = [*pieces, ""]
    texts: set[str | None] = {None, ""}
    for left, middle, right in product(ends, ["", "x", "a b", "\u00e9\u0301", "\t"], ends):
        texts.add(left + middle + right)
    generator = random.Random(11)
    for _ in range(20000):
        texts.add("".join(generator.choice(pieces) for _ in range(generator.randrange(0, 8))))
    return sorted(texts, key=lambda text: (text is None, text or ""))


def test_duckdb_trim_equals_the_rule(expressions: dict[str, str], tmp_path: Path) -> None:
    texts = trim_corpus()
    expected = [None if text is None else text.strip(TRIMMED) for text in texts]
    assert sum(text != trimmed for text, trimmed in zip(texts, expected, strict=True)) > 5000
    rows = _write_cases(tmp_path / "trim.ndjson", "raw_text", texts, "expected", expected)
    with duckdb.connect() as con:
        differences = con.execute(
            f"""
            select raw_text, expected, duckdb_form
            from (
                select *, {expressions["trim"]} as duckdb_form
                from read_json(?, format = 'newline_delimited', columns = {{raw_text: 'varchar', expected: 'varchar'}})
            )
            where duckdb_form is distinct from expected
            order by all
            limit 20
            """,
            [str(rows)],
        ).fetchall()
    assert differences == [], f"texts trimmed differently (text, rule, duckdb form): {differences}"
