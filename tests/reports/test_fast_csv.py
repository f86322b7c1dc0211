"""The fast CSV of completion records (COPY on PostgreSQL, csv.writer over raw rows on SQLite)
writes the same bytes as the reference writer (exports.csv_chunks over records.document_rows),
keeps to the viewer's scope, and is the one CSV writer of the records page and the CLI."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, text, update

from learnhub import db
from learnhub.accounts.models import Role
from learnhub.attendance.models import Completion
from learnhub.audit.services import Actor
from learnhub.catalog.models import ModuleVersion
from learnhub.certificates import services as certificates
from learnhub.reports import exports, records
from learnhub.timeutil import utcnow
from learnhub.xlsx import neutralise
from tests.reports.test_records import enrol, make_class

#: Names and texts a spreadsheet would misread, or a CSV writer must quote.
AWKWARD = [
    "=1+1",
    "-5",
    "@x",
    "+84 912 345 678",
    "\tTab đầu dòng",
    "\rCR đầu dòng",
    'Anh "Ba" Nguyễn',
    "Lê, Văn Tám",
    "Dòng một\nDòng hai",
    "Dòng một\r\nDòng hai",
    "Nguyễn Thị Ánh Tuyết",
    "  khoảng trắng  ",
    "'đã có nháy",
    "\\.",
    "x",
]
#: (score, share) of the completions: decimals, ties of the half-to-even rounding, bounds.
RESULTS = [
    ("9.5", "0.875"),
    ("8.57", "0.6667"),
    ("10", "1"),
    ("0", "0"),
    ("0.01", "0.1225"),  # 12.25 % -> 12.2 (half to even)
    (None, "0.1235"),  # 12.35 % -> 12.4
    ("7.05", "0.0005"),  # 0.05 % -> 0.0
    ("5.55", "0.0015"),  # 0.15 % -> 0.2
    ("6.66", "0.3333"),
]


def reference(stmt) -> bytes:
    """The plain Python writer: the test oracle."""
    return b"".join(exports.csv_chunks(records.EXPORT_COLUMNS, records.document_rows(stmt)))


def fast(stmt, per_person: bool = False) -> bytes:
    return b"".join(records.csv_chunks(stmt, per_person=per_person))


def rows_of(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


@pytest.fixture
def awkward(create_user, unit, trainer):
    """People with awkward names in two units (and one in none), in an ended class with awkward
    texts and a running one; completions with every kind of score, one near midnight UTC, one
    certificate."""
    snv, stc = unit("CM-SNV"), unit("CM-STC")
    stc.name = '=Sở "Tài chính", Cà Mau\nphòng 1'  # guarded and quoted, once per unit on SQLite
    people = []
    for i, name in enumerate(AWKWARD):
        person = create_user(
            f"fc-{i}",
            full_name="Tạm",
            unit=(snv, stc, None)[i % 3],
            birth_date=date(1960 + i, 1 + i % 12, 1 + i) if i % 2 else None,
        )
        person.full_name = name  # as is (create_user trims and cleans)
        people.append(person)
    people[1].username = "=cmd|' /C calc'!A0"
    db.session.flush()
    ended = make_class(trainer, "-FC-01", title='=HYPERLINK("x"), "Lớp", mới')
    running = make_class(
        trainer, "FC-02", starts=date(2026, 1, 5), ends=date(2999, 12, 31), title="Lớp\tđang học"
    )
    enrol(ended, *people)
    enrol(running, *people[:4])
    # 00:00:00 on 10 January in Vietnam, and the microsecond before.
    late, early = datetime(2026, 1, 9, 17), datetime(2026, 1, 9, 16, 59, 59, 999999)  # noqa: DTZ001
    for person, (score, share) in zip(people, RESULTS, strict=False):
        db.session.add(
            Completion(
                class_id=ended.id,
                user_id=person.id,
                completed_at=late if person is people[0] else early,
                rule={},
                score=Decimal(score) if score else None,
                attendance_share=Decimal(share),
            )
        )
    db.session.flush()
    certificates.issue(Actor(None), ended, people[0], utcnow())
    version_id = ended.version_id or ended.module.published_version_id
    version = db.session.get(ModuleVersion, version_id)
    meta = dict(version.meta, title='@Chuyên đề, "đối ngoại"\nnhân dân')
    db.session.execute(
        update(ModuleVersion).where(ModuleVersion.id == version_id).values(meta=meta)
    )
    db.session.expire_all()
    hr_a = create_user("fc-hr-a", roles=(Role.hr,), unit=snv, scope=snv)
    return {"people": people, "ended": ended, "running": running, "hr_a": hr_a}


@pytest.mark.parametrize("per_person", [False, True])
def test_fast_csv_writes_the_same_bytes_as_the_reference_writer(awkward, per_person):
    for klass in (awkward["ended"], awkward["running"]):
        stmt = records.statement(records.Filters(class_id=klass.id), None)
        expected, got = reference(stmt), fast(stmt, per_person)
        assert rows_of(expected)[1:], "the fixture has rows"
        assert got == expected
    stmt = records.statement(records.Filters(), None)
    assert fast(stmt, per_person) == reference(stmt)
    units = {r[4] for r in rows_of(fast(stmt, per_person))[1:]}
    assert {'\'=Sở "Tài chính", Cà Mau\nphòng 1', ""} <= units
    # Every awkward value made it through (the oracle is not trivially empty).
    stmt = records.statement(records.Filters(class_id=awkward["ended"].id), None)
    rows = rows_of(fast(stmt))
    names = [r[0] for r in rows[1:]]
    assert names[:4] == ["'=1+1", "'-5", "'@x", "'+84 912 345 678"]
    assert "Dòng một\r\nDòng hai" in names
    assert 'Anh "Ba" Nguyễn' in names
    assert [r[12] for r in rows[1:10]] == [
        "9.50", "8.57", "10.00", "0.00", "0.01", "", "7.05", "5.55", "6.66"
    ]  # fmt: skip
    assert [r[13] for r in rows[1:10]] == [
        "87.5", "66.7", "100.0", "0.0", "12.2", "12.4", "0.0", "0.2", "33.3"
    ]  # fmt: skip
    assert rows[1][11] == "10/01/2026"
    assert rows[2][11] == "09/01/2026"
    assert rows[1][7].startswith("'@Chuyên đề")
    assert rows[1][14]
    assert rows[2][14] == ""


@pytest.mark.parametrize("per_person", [False, True])
def test_fast_csv_same_bytes_with_every_filter(awkward, per_person):
    f = records.Filters(
        unit="CM-SNV",
        date_from=date(2026, 1, 1),
        date_to=date(2026, 12, 31),
        module=awkward["ended"].module.slug,
        klass="-fc-01",
        status=records.COMPLETED,
        q="nguyen",
    )
    stmt = records.statement(f, None)
    assert fast(stmt, per_person) == reference(stmt)
    assert len(rows_of(fast(stmt))) > 1
    # Quotes, percent signs and backslashes in a filter are values, never SQL.
    for klass in ("x'; DROP TABLE users; --", "100%", "a\\'b", "%%"):
        stmt = records.statement(records.Filters(klass=klass), None)
        assert fast(stmt, per_person) == reference(stmt)
        assert len(rows_of(fast(stmt))) == 1


def test_fast_csv_keeps_to_the_hr_officers_scope(awkward):
    stmt = records.statement(records.Filters(class_id=awkward["ended"].id), awkward["hr_a"])
    got = fast(stmt)
    assert got == reference(stmt)
    logins = {r[1] for r in rows_of(got)[1:]}
    in_scope = {
        p.login for p in awkward["people"] if p.unit is not None and p.unit.code == "CM-SNV"
    }
    assert in_scope
    assert logins == in_scope


def test_fast_csv_counts_and_streams_in_chunks(awkward, monkeypatch):
    monkeypatch.setattr(exports, "SQL_BATCH", 4)
    monkeypatch.setattr(exports, "COPY_ROWS_PER_CHUNK", 4)
    stmt = records.statement(records.Filters(class_id=awkward["ended"].id), None)
    written = [0]
    chunks = list(records.csv_chunks(stmt, written))
    assert written[0] == len(AWKWARD)
    assert len(chunks) == 1 + -(-len(AWKWARD) // 4)
    assert b"".join(chunks) == reference(stmt)


def test_every_records_csv_is_the_fast_one(
    client, login, admin, awkward, runner, tmp_path, monkeypatch
):
    """The records page and `flask reports export` write CSV through records.csv_chunks: with the
    row-by-row path disabled, both still write the reference's bytes."""
    stmt = records.statement(records.Filters(klass="-FC-01"), None)
    expected = reference(stmt)

    def refuse(_stmt):
        raise AssertionError("a CSV of records must come from records.csv_chunks")

    login(admin)
    monkeypatch.setattr(records, "document_rows", refuse)
    with client.get("/reports/records.csv?klass=-FC-01") as response:
        assert response.status_code == 200
        assert response.get_data() == expected
    out = tmp_path / "records.csv"
    result = runner.invoke(args=["reports", "export", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{len(rows_of(out.read_bytes())) - 1} records written" in result.output
    mine = [r for r in rows_of(out.read_bytes())[1:] if r[5] == "'-FC-01"]
    assert mine == rows_of(expected)[1:]


def test_sqlite_fast_csv_fetches_whole_lines(awkward, app):
    """On SQLite the database writes each line: Python fetches one text a record and only
    joins them (no csv.writer, no Python per cell)."""
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL writes the rows with COPY")
    widths = []

    def seen(_conn, cursor, statement, *_args):
        if "class_cells" in statement:
            widths.append(len(cursor.description))

    engine = db.session.get_bind()
    event.listen(engine, "after_cursor_execute", seen)
    try:
        stmt = records.statement(records.Filters(class_id=awkward["ended"].id), None)
        for per_person in (False, True):
            assert fast(stmt, per_person) == reference(stmt)
    finally:
        event.remove(engine, "after_cursor_execute", seen)
    assert widths == [1, 1]


def _set_title(version_id: int, title: str | None) -> None:
    version = db.session.get(ModuleVersion, version_id)
    meta = {k: v for k, v in version.meta.items() if k != "title"}
    if title is not None:
        meta["title"] = title
    db.session.execute(
        update(ModuleVersion).where(ModuleVersion.id == version_id).values(meta=meta)
    )
    db.session.expire_all()


def test_sqlite_fast_csv_reads_bytes_and_gives_the_connection_back_reading_text(awkward):
    """On SQLite the lines come as SQLite's UTF-8 bytes (no decoding to str and encoding back);
    the connection reads text again afterwards, whether the file was read to its end or
    abandoned half-way (a download cancelled)."""
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL writes the rows with COPY")
    stmt = records.statement(records.Filters(class_id=awkward["ended"].id), None)
    dbapi = db.session.connection().connection.driver_connection
    chunks = records.csv_chunks(stmt)
    next(chunks)  # the BOM and header, from Python
    assert next(chunks).endswith(b"\r\n")  # the first rows
    assert dbapi.text_factory is bytes  # while the rows are read
    chunks.close()  # abandoned half-way
    assert dbapi.text_factory is str
    assert db.session.scalar(text("SELECT 'Cà Mau'")) == "Cà Mau"
    assert fast(stmt) == reference(stmt)
    assert dbapi.text_factory is str
    assert db.session.scalar(text("SELECT 'Đầm Dơi'")) == "Đầm Dơi"


def test_fast_csv_same_bytes_for_any_module_title(awkward):
    """Titles that SQL literals must escape (quotes, backslashes, percent signs), an empty
    title and none at all (the module's slug then): the same bytes as the reference."""
    ended = awkward["ended"]
    version_id = ended.version_id or ended.module.published_version_id
    slug = ended.module.slug
    stmt = records.statement(records.Filters(), None)
    for title in ("100% l'x \\n %% \\' \"q\"", "-đầu", "", None):
        _set_title(version_id, title)
        for per_person in (False, True):
            assert fast(stmt, per_person) == reference(stmt)
        mine = [r for r in rows_of(fast(stmt))[1:] if r[5] == "'-FC-01"]
        assert {r[7] for r in mine} == {neutralise(title) if title else slug}


def _pg_only() -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's COPY")


def test_postgresql_copy_reads_no_json_per_record(awkward):
    """The module's title is not read from the version's JSON for every record (a parse of
    the JSON a record: most of the time of a million-record export): the titles are listed
    once, and the statement the COPY runs has no JSON access."""
    _pg_only()
    stmt = records.statement(records.Filters(), None)
    for per_person in (False, True):
        sql = exports._copy_sql(records.document_select(stmt, per_person))
        assert "->>" not in sql
        assert "module_versions" not in sql
        assert fast(stmt, per_person) == reference(stmt)


def test_postgresql_copy_restores_the_transactions_settings(awkward):
    """The COPY sets its own DateStyle (dates as dd/mm/yyyy) and turns JIT off for itself;
    the transaction's settings are back afterwards, whatever they were."""
    _pg_only()
    stmt = records.statement(records.Filters(), None)
    expected = reference(stmt)

    def settings():
        return db.session.execute(
            text("SELECT current_setting('DateStyle'), current_setting('jit')")
        ).one()

    db.session.execute(text("SET LOCAL DateStyle = 'Postgres, MDY'"))
    db.session.execute(text("SET LOCAL jit = on"))
    assert fast(stmt) == expected
    assert tuple(settings()) == ("Postgres, MDY", "on")
    db.session.execute(text("SET LOCAL DateStyle = 'ISO, YMD'"))
    db.session.execute(text("SET LOCAL jit = off"))
    assert fast(stmt, per_person=True) == expected
    assert tuple(settings()) == ("ISO, YMD", "off")
