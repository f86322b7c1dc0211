"""`flask reports export`: the same rows as the HR page with the same filters, for everyone."""

import csv
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from learnhub.reports import records
from tests.reports.test_records import complete, enrol, html_of, login_of, make_class, table_of

LOGIN = 1


@pytest.fixture
def cohort(create_user, unit, trainer):
    """Learners of Sở Nội vụ, Sở Tài chính and the former district of Thới Bình, in classes
    ending in January 2026 and in May 2024."""
    people = {
        "snv": create_user("cli-snv", full_name="Nguyễn Thị Hồng Nhung", unit=unit("CM-SNV")),
        "stc": create_user("cli-stc", full_name="Trần Hồng Quân", unit=unit("CM-STC")),
        "old": create_user("cli-old", full_name="Đặng Văn Lực", unit=unit("H-THOI-BINH")),
        "new": create_user("cli-new", full_name="Võ Minh Triết", unit=unit("X-THOI-BINH")),
    }
    recent = make_class(trainer, "CLI-2026-01", ends=date(2026, 1, 9))
    earlier = make_class(trainer, "CLI-2024-01", starts=date(2024, 5, 6), ends=date(2024, 5, 10))
    enrol(recent, *people.values())
    enrol(earlier, people["old"], people["snv"])
    complete(recent, people["snv"])
    complete(earlier, people["old"], "6")
    return people


def csv_logins(path) -> list[tuple[str, str]]:
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == [c.header for c in records.EXPORT_COLUMNS]
    return [(r[LOGIN], r[5]) for r in rows[1:]]


def page_logins(client, query: str) -> list[tuple[str, str]]:
    """(login, class code) of every row of the admin's pages with *query* (following the
    keyset "next" links: other tests may have committed records of their own)."""
    found, url = [], f"/reports/records?per_page=200&{query}"
    while url:
        html = html_of(client, url)
        for row in table_of(html).split("<tr>")[1:]:
            cells = re.findall(r"<td>(.*?)</td>", row, flags=re.S)
            found.append((login_of(cells[0]), cells[3].split("<br>", 1)[0].strip()))
        following = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = following.group(1).replace("&amp;", "&") if following else ""
    return found


def mine(pairs) -> list[tuple[str, str]]:
    return [p for p in pairs if p[0].startswith("cli-")]


@pytest.mark.parametrize(
    ("options", "query"),
    [
        (["--unit", "CM-SNV"], "unit=CM-SNV"),
        (["--unit", "X-THOI-BINH"], "unit=X-THOI-BINH"),
        (["--from", "01/01/2026", "--to", "31/01/2026"], "from=01/01/2026&to=31/01/2026"),
        (["--unit", "X-THOI-BINH", "--to", "31/12/2024"], "unit=X-THOI-BINH&to=31/12/2024"),
        ([], ""),
    ],
)
def test_csv_export_matches_the_page(
    runner, client, login, admin, cohort, tmp_path, options, query
):
    out = tmp_path / "hoso.csv"
    result = runner.invoke(args=["reports", "export", *options, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "records written to" in result.output
    exported = csv_logins(out)
    login(admin)
    assert mine(exported) == mine(page_logins(client, query))
    assert mine(exported)  # every case has rows of this test


def test_expected_rows(runner, cohort, tmp_path):
    out = tmp_path / "tb.csv"
    result = runner.invoke(
        args=["reports", "export", "--unit", "X-THOI-BINH", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert mine(csv_logins(out)) == [
        ("cli-old", "CLI-2026-01"),
        ("cli-new", "CLI-2026-01"),
        ("cli-old", "CLI-2024-01"),
    ]


def test_xlsx_export(runner, cohort, tmp_path):
    out = tmp_path / "hoso.dat"
    result = runner.invoke(
        args=[
            "reports",
            "export",
            "--unit",
            "CM-SNV",
            "--from",
            "1/1/2024",
            "--format",
            "xlsx",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(io.BytesIO(out.read_bytes()))  # any file name
    try:
        rows = list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()
    got = [(r[LOGIN], r[5]) for r in rows[1:]]
    assert mine(got) == [("cli-snv", "CLI-2026-01"), ("cli-snv", "CLI-2024-01")]
    assert "Nguyễn Thị Hồng Nhung" in {r[0] for r in rows}
    # The format follows the file name when --format is not given.
    out2 = tmp_path / "hoso.xlsx"
    assert runner.invoke(args=["reports", "export", "--output", str(out2)]).exit_code == 0
    assert out2.read_bytes()[:2] == b"PK"
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--from", "31/02/2026"], "DD/MM/YYYY"),
        (["--to", "2026/13/01"], "DD/MM/YYYY"),
        (["--from", "tomorrow"], "DD/MM/YYYY"),
        (["--from", "02/02/2026", "--to", "01/02/2026"], "--from is after --to"),
        (["--unit", "KHONG-CO"], "no unit with code 'KHONG-CO'"),
        (["--format", "pdf"], "'pdf' is not one of"),
    ],
)
def test_bad_options(runner, tmp_path, options, message):
    out = tmp_path / "x.csv"
    result = runner.invoke(args=["reports", "export", *options, "--output", str(out)])
    assert result.exit_code != 0
    assert message in result.output
    assert not out.exists()


def test_output_is_required(runner):
    result = runner.invoke(args=["reports", "export"])
    assert result.exit_code != 0
    assert "--output" in result.output
