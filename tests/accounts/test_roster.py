"""Roster import: encodings, headers, all-or-nothing, idempotence, the CLI and the admin page."""

import datetime as dt
import hashlib
import io
import unicodedata

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from learnhub.accounts import roster
from learnhub.accounts.models import Role, User
from learnhub.audit.models import AuditEvent
from learnhub.audit.services import SYSTEM
from tests.support import csrf_token

HEADER = "Họ và tên,Ngày sinh,Tên đăng nhập/Email,Đơn vị,Chức vụ,Ngạch,Vai trò\n"


def _csv(rows: list[str], bom: bool = False) -> bytes:
    data = (HEADER + "\n".join(rows) + "\n").encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


def _count_users(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(User))


def big_roster(n: int, bad_row: int | None = None) -> bytes:
    lines = []
    for i in range(n):
        birth = "31/02/1990" if bad_row is not None and i + 2 == bad_row else "05/01/1990"
        lines.append(
            f"Trần Thị Mỹ Duyên {i},{birth},nv{i:05d},CM-SNV,Chuyên viên,Chuyên viên,Học viên"
        )
    return _csv(lines)


def test_csv_with_bom_and_nfd_names(db_session):
    nfd = unicodedata.normalize("NFD", "Lê Văn Ửng")
    plan = roster.plan_import(_csv([f"{nfd},05/01/1985,levanung,Sở Nội vụ,,,"], bom=True))
    assert plan.ok, plan.problems
    roster.apply_plan(SYSTEM, plan)
    user = db_session.scalar(select(User).where(User.username == "levanung"))
    assert user.full_name == "Lê Văn Ửng"
    assert unicodedata.is_normalized("NFC", user.full_name)
    assert user.unit.code == "CM-SNV"
    assert user.birth_date.isoformat() == "1985-01-05"


def test_semicolon_separated_csv(db_session):
    data = (
        HEADER.replace(",", ";").encode() + "Phạm Văn Bình;01/02/1980;pvbinh;CM-STC;;;\n".encode()
    )
    plan = roster.plan_import(data)
    assert plan.ok
    assert len(plan.create) == 1


@pytest.mark.parametrize("encoding", ["cp1258", "utf-16"])
def test_legacy_encoding_refused_with_instructions(encoding):
    # Windows-1258 has no code for some letters (ọ): Excel writes what it can.
    data = (HEADER + "Nguyễn Văn Bảy,01/01/1980,bay,,,,\n").encode(encoding, errors="replace")
    with pytest.raises(roster.RosterError, match="UTF-8"):
        roster.plan_import(data)


def test_tcvn3_bytes_refused():
    # "Nguyễn" typed with a TCVN3 font: single bytes above 0x7f, not valid UTF-8.
    data = HEADER.encode() + b"Nguy\xd6n V\xb8n A,01/01/1980,a,,,,\n"
    with pytest.raises(roster.RosterError, match="CSV UTF-8"):
        roster.plan_import(data)


def test_xlsx_with_dates_as_dates(db_session):
    book = Workbook()
    sheet = book.active
    sheet.append(["Họ và tên", "Ngày sinh", "Tên đăng nhập/Email", "Đơn vị", "Vai trò"])
    born = dt.datetime(1990, 3, 8)  # noqa: DTZ001 (Excel dates are naive)
    sheet.append(["Võ Thị Sáu", born, "vts@camau.gov.vn", "X-THOI-BINH", "Giảng viên"])
    buf = io.BytesIO()
    book.save(buf)
    plan = roster.plan_import(buf.getvalue(), "roster.xlsx")
    assert plan.ok, plan.problems
    roster.apply_plan(SYSTEM, plan)
    user = db_session.scalar(select(User).where(User.email == "vts@camau.gov.vn"))
    assert user.birth_date == dt.date(1990, 3, 8)
    assert user.roles == {Role.trainer}


def test_missing_required_column():
    plan = roster.plan_import("Họ và tên,Ngày sinh\nA,01/01/1990\n".encode())
    assert [(p.row, p.column) for p in plan.problems] == [(1, "Tên đăng nhập/Email")]


def test_every_bad_row_is_named(db_session):
    rows = [
        "Nguyễn Văn A,01/01/1990,nva,CM-SNV,,,",
        ",01/01/1990,nobody,CM-SNV,,,",
        "Nguyễn Văn C,32/01/1990,nvc,CM-SNV,,,",
        "Nguyễn Văn D,01/01/1990,nvd,NO-SUCH-UNIT,,,",
        "Nguyễn Văn E,01/01/1990,nva,CM-SNV,,,",
        '=HYPERLINK("x"),01/01/1990,nvf,CM-SNV,,,',
        "Nguyễn Văn G,01/01/1990,nvg,CM-SNV,,,Quản trị",
        "Nguyễn Văn H,01/01/1990,Nguyễn H,CM-SNV,,,",
    ]
    before = _count_users(db_session)
    plan = roster.plan_import(_csv(rows))
    found = {(p.row, p.column) for p in plan.problems}
    assert found == {
        (3, "Họ và tên"),
        (4, "Ngày sinh"),
        (5, "Đơn vị"),
        (6, "Tên đăng nhập/Email"),
        (7, "Họ và tên"),
        (8, "Vai trò"),
        (9, "Tên đăng nhập/Email"),
    }
    with pytest.raises(roster.RosterError):
        roster.apply_plan(SYSTEM, plan)
    assert _count_users(db_session) == before


def test_reimport_updates_instead_of_duplicating(db_session):
    roster.apply_plan(SYSTEM, roster.plan_import(_csv(["Đỗ Văn Hai,01/01/1980,dvhai,CM-SNV,,,"])))
    again = roster.plan_import(_csv(["Đỗ Văn Hai,01/01/1980,DVHAI,CM-SNV,,,"]))
    assert (len(again.create), len(again.update), again.unchanged) == (0, 0, 1)
    moved = roster.plan_import(_csv(["Đỗ Văn Hai,01/01/1980,dvhai,CM-STC,Phó phòng,,"]))
    assert len(moved.update) == 1
    roster.apply_plan(SYSTEM, moved)
    users = db_session.scalars(select(User).where(User.username == "dvhai")).all()
    assert len(users) == 1
    assert (users[0].unit.code, users[0].position) == ("CM-STC", "Phó phòng")


def test_10000_rows_with_one_bad_row_import_nothing(tmp_path, runner, db_session):
    path = tmp_path / "roster.csv"
    path.write_bytes(big_roster(10_000, bad_row=7_777))
    before = _count_users(db_session)
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 1
    assert "row 7777, column 'Ngày sinh'" in result.output
    assert "nothing imported" in result.output
    assert _count_users(db_session) == before


def test_10000_rows_import_once_then_nothing_changes(tmp_path, runner, db_session):
    path = tmp_path / "roster.csv"
    path.write_bytes(big_roster(10_000))
    before = _count_users(db_session)
    dry = runner.invoke(args=["users", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "10000 to create" in dry.output
    assert _count_users(db_session) == before
    first = runner.invoke(args=["users", "import", str(path)])
    assert first.exit_code == 0, first.output
    assert "Importing" in first.output  # the progress bar's label
    assert _count_users(db_session) == before + 10_000
    second = runner.invoke(args=["users", "import", str(path)])
    assert second.exit_code == 0, second.output
    assert "0 to create, 0 to update, 10000 unchanged" in second.output
    assert _count_users(db_session) == before + 10_000
    imports = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "users.import").order_by(AuditEvent.id)
    ).all()
    assert [e.after["created"] for e in imports] == [10_000, 0]


def test_admin_page_preview_then_confirm(client, login, admin, db_session):
    login(admin)
    token = csrf_token(client, "/admin/users/import/")
    data = _csv(["Huỳnh Thị Lan,02/03/1991,htlan,CM-SNV,,,"])
    page = client.post(
        "/admin/users/import/",
        data={"file": (io.BytesIO(data), "danh-sach.csv"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Huỳnh Thị Lan" in html
    assert db_session.scalar(select(User).where(User.username == "htlan")) is None
    action = html.split('action="/admin/users/import/')[1].split('"')[0]
    done = client.post(f"/admin/users/import/{action}", data={"csrf_token": token})
    assert done.status_code == 302
    assert db_session.scalar(select(User).where(User.username == "htlan")) is not None


def test_admin_page_shows_problems_and_imports_nothing(client, login, admin, db_session):
    login(admin)
    token = csrf_token(client, "/admin/users/import/")
    data = _csv(["Huỳnh Thị Lan,02/03/1991,htlan,NOPE,,,"])
    page = client.post(
        "/admin/users/import/",
        data={"file": (io.BytesIO(data), "x.csv"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert page.status_code == 422
    assert "không có đơn vị" in page.get_data(as_text=True)


def test_admin_page_refuses_legacy_encoding(client, login, admin):
    login(admin)
    token = csrf_token(client, "/admin/users/import/")
    data = (HEADER + "Nguyễn Văn Bảy,01/01/1980,bay,,,,\n").encode("cp1258", errors="replace")
    page = client.post(
        "/admin/users/import/",
        data={"file": (io.BytesIO(data), "x.csv"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert page.status_code == 400
    assert "CSV UTF-8" in page.get_data(as_text=True)


def test_confirm_with_unknown_token_is_404(client, login, admin):
    login(admin)
    token = csrf_token(client, "/admin/users/import/")
    assert (
        client.post("/admin/users/import/" + "A" * 24, data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        client.post("/admin/users/import/..%2f..%2fetc", data={"csrf_token": token}).status_code
        == 404
    )


def test_finding10_second_confirm_shows_the_first_result_not_404(client, login, admin, db_session):
    login(admin)
    token = csrf_token(client, "/admin/users/import/")
    data = _csv(["Lâm Thị Bích Ngọc,04/05/1992,ltbngoc,CM-SNV,,,"])
    page = client.post(
        "/admin/users/import/",
        data={"file": (io.BytesIO(data), "danh-sach.csv"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    action = page.get_data(as_text=True).split('action="/admin/users/import/')[1].split('"')[0]
    first = client.post(f"/admin/users/import/{action}", data={"csrf_token": token})
    assert first.status_code == 302
    second = client.post(
        f"/admin/users/import/{action}", data={"csrf_token": token}, follow_redirects=True
    )
    assert second.status_code == 200
    body = second.get_data(as_text=True)
    assert "đã được nhập rồi" in body
    assert "1 tài khoản mới" in body
    assert db_session.scalar(select(func.count()).where(User.username == "ltbngoc")) == 1
    imported = select(func.count()).where(
        AuditEvent.action == "users.import",
        AuditEvent.object_id == hashlib.sha256(data).hexdigest()[:16],
    )
    assert db_session.scalar(imported) == 1
