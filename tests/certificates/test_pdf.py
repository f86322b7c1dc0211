"""The certificate PDF: official header, the learner's name exactly as stored, a QR code that
decodes to the verification URL and a signed payload, nothing fetched or embedded."""

import base64
import io
import shutil
import subprocess
import unicodedata

import pytest
from pypdf import PdfReader

from learnhub import qrcodes
from learnhub.audit.services import Actor
from learnhub.certificates import services as certificates
from learnhub.certificates import signing
from learnhub.timeutil import utcnow
from tests.certificates.conftest import complete
from tests.support import require

NAMES = ["Nguyễn Thị Hồng Nhung", "Trần Hồng Quân", "Lê Văn Ửng"]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdftotext(data: bytes, tmp_path) -> str:
    require(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is not installed")
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def decode_qr(data: bytes, tmp_path) -> str:
    """Render the page (pdftoppm) and decode its QR code (zbarimg)."""
    for tool in ("pdftoppm", "zbarimg"):
        require(shutil.which(tool) is not None, f"{tool} is not installed")
    pdf = tmp_path / "q.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", str(pdf), str(tmp_path / "q")])
    out = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "q.png")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip()


@pytest.mark.parametrize("name", NAMES)
def test_name_and_header_in_the_pdf(klass, create_user, unit, name, tmp_path):
    user = create_user(full_name=name, unit=unit("CM-SNV"))
    complete(klass, user)
    cert = certificates.issue(Actor(None), klass, user, utcnow())
    data = certificates.read_pdf(cert)
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    for text in (pdf_text(data), pdftotext(data, tmp_path)):
        text = unicodedata.normalize("NFC", text)
        assert name in text
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
        assert "Độc lập - Tự do - Hạnh phúc" in text
        assert "SỞ NỘI VỤ" in text
        assert "UBND TỈNH CÀ MAU" in text
        assert "GIẤY CHỨNG NHẬN" in text
        assert cert.number_label in text
        assert cert.serial in text
        assert cert.data["place_date"] in text.replace("\n", " ")
    assert cert.data["place_date"].startswith("Cà Mau, ngày ")


def test_qr_decodes_to_url_and_a_signed_payload(klass, learner, tmp_path, app):
    complete(klass, learner)
    cert = certificates.issue(Actor(None), klass, learner, utcnow())
    text = decode_qr(certificates.read_pdf(cert), tmp_path)
    url, token = text.split("#", 1)
    assert url == f"{app.config['BASE_URL']}/verify/{cert.code}"
    public = signing.load_public_key(signing.public_pem(certificates.signing_key()))
    checked = signing.verify(public, text)
    assert checked.valid, checked.problem
    assert checked.claims["n"] == learner.full_name
    assert checked.claims["r"] == cert.number_label
    # One byte changed anywhere in the payload or the signature: refused.
    for position in (len("LH1.") + 5, len(token) - 3):
        changed = (
            token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
        )
        assert not signing.verify(public, changed).valid


def test_html_in_a_name_is_text_and_nothing_is_fetched(klass, create_user, caplog):
    hostile = '<img src="file:///etc/passwd"><a rel="attachment" href="file:///etc/passwd">x</a>'
    user = create_user(full_name=hostile + '<img src="http://127.0.0.1:9/x.png">')
    complete(klass, user)
    cert = certificates.issue(Actor(None), klass, user, utcnow())
    data = certificates.read_pdf(cert)
    assert '<img src="file:///etc/passwd">' in pdf_text(data)
    assert b"/EmbeddedFile" not in data
    assert b"root:x:0:0" not in data
    # One image: the QR code (a data: URI); nothing fetched from a file or the network.
    assert data.count(b"/Subtype /Image") + data.count(b"/Subtype/Image") == 1
    assert "refused to fetch" not in caplog.text  # escaped text never became a request


def test_the_fetcher_refuses_files_and_network(caplog):
    from learnhub import pdf

    fetcher = pdf.url_fetcher()
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.org/a.css"):
        with pytest.raises(pdf.FetchRefused):
            fetcher(url)
    assert caplog.text.count("refused to fetch") == 3
    assert fetcher("data:text/plain,ok").read() == b"ok"
    bundled = pdf.STATIC / "css" / "app.css"
    assert fetcher(bundled.as_uri()).read() == bundled.read_bytes()


def test_our_base64_images_are_decoded_without_urllib(monkeypatch):
    """A certificate's images are base64 data: URIs: the fetcher decodes them itself (urllib's
    data handler quoted, parsed and decoded a QR code's 4 KB URI again on every render); any
    other data: URI still goes through urllib, and bad base64 is not guessed at."""
    import base64
    import urllib.request

    from learnhub import pdf

    def no_urllib(self, req):
        raise AssertionError("urllib's data handler was used")

    png = qrcodes.png("https://example.org/verify/ABC")
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    with monkeypatch.context() as patched:
        patched.setattr(urllib.request.DataHandler, "data_open", no_urllib)
        response = pdf.url_fetcher()(uri)
        assert response.read() == png
        assert response.content_type == "image/png"
    assert pdf.url_fetcher()("data:text/plain,ok").read() == b"ok"
    assert pdf.url_fetcher()("data:text/plain;base64,b2s%3D").read() == b"ok"
    assert pdf._data_uri("data:image/png;base64,not base64!") is None


def test_a_render_has_a_hard_time_limit(klass, learner, monkeypatch, app):
    from learnhub import pdf

    complete(klass, learner)
    monkeypatch.setitem(app.config, "PDF_TIMEOUT", 0.001)
    with pytest.raises(pdf.RenderTimeout):
        certificates.issue(Actor(None), klass, learner, utcnow())
    assert certificates.valid_certificate(klass, learner) is None  # nothing half-issued
    monkeypatch.setitem(app.config, "PDF_TIMEOUT", 30)
    assert certificates.issue(Actor(None), klass, learner, utcnow()).pdf_size > 0


def test_fonts_and_subsetter_are_checked(monkeypatch, caplog):
    from learnhub import pdf

    require(pdf.environment_problems() == [], "Liberation Serif or libharfbuzz-subset0 missing")
    monkeypatch.setattr(pdf, "FONT_DIRS", ())
    monkeypatch.setattr(pdf.ctypes.util, "find_library", lambda name: None)
    problems = pdf.environment_problems()
    assert any("libharfbuzz-subset0" in p for p in problems)
    assert any("Liberation Serif" in p for p in problems)
    pdf.check_environment.cache_clear()
    try:
        pdf.check_environment()
    finally:
        pdf.check_environment.cache_clear()
    assert "PDF RENDERING DEGRADED" in caplog.text


def test_issue18_certificate_lays_out_without_auto_tables_or_a_big_qr(klass, learner):
    """Issue 18 (Build 5): WeasyPrint measured every table cell's min/max content width (the
    URL, break-all, at every character) and re-encoded a 5-pixel-per-module QR PNG on every
    render. The certificate is laid out with fixed-width boxes and its QR has 2 pixels per
    module, drawn unsmoothed; the QR still decodes (test_qr_decodes_to_url_and_a_signed_payload)."""
    import base64
    import re

    from PIL import Image

    complete(klass, learner)
    cert = certificates.issue(Actor(None), klass, learner, utcnow())
    html = certificates.certificate_html(cert, certificates.default_issuer())
    assert "<table" not in html
    assert "display: inline-block; border-bottom" not in html
    assert "image-rendering: pixelated" in html
    png = re.search(r'class="qr" src="data:image/png;base64,([^"]+)"', html).group(1)
    image = Image.open(io.BytesIO(base64.b64decode(png)))
    assert image.mode == "L"
    assert qrcodes.PNG_SCALE == 2
    # The symbol (17 + 4 × version modules) and its quiet zones (4 modules each side), at 2
    # pixels a module: the image of the text the certificate's QR holds, no larger.
    assert (
        image.tobytes() == Image.open(io.BytesIO(qrcodes.png(certificates.qr_text(cert)))).tobytes()
    )
    modules = image.size[0] // 2
    assert image.size == (modules * 2, modules * 2)
    assert (modules - 8 - 17) % 4 == 0


def _style(html: str) -> list[tuple[str, str]]:
    """The (selectors, declarations) of the certificate's <style> element, in order."""
    import re

    css = re.search(r"<style>(.*?)</style>", html, re.DOTALL).group(1)
    return [(sel.strip(), body) for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)]


def test_issue18_nothing_floats_and_no_word_breaks_at_every_letter(klass, learner):
    """Issue 18 (Build 5): while a float is in a block formatting context, WeasyPrint 70 measures
    the narrowest width (min-content) of every line box laid out in it, word by word; with
    word-break: break-all, letter by letter. The header's left column floated in the page's own
    context, so every line of the certificate below it was measured for nothing. The header's
    columns are now two top-aligned inline blocks on one line that never wraps; the QR code is
    placed (absolutely) in the ids block, its lines start past it (a float there also moved a
    line too wide for its column below it); the verification URL breaks inside a word only when
    the word overflows its line."""
    complete(klass, learner)
    cert = certificates.issue(Actor(None), klass, learner, utcnow())
    style = _style(certificates.certificate_html(cert, certificates.default_issuer()))
    floats = [sel for sel, body in style if "float:" in body.replace(" ", "")]
    assert floats == []
    assert not [sel for sel, body in style if "break-all" in body]
    columns = dict(style)[".header .left, .header .right"]
    assert "display: inline-block" in columns
    assert "vertical-align: top" in columns


LONG_AGENCY = "Trung tâm bồi dưỡng chính trị và nghiệp vụ hành chính huyện Đầm Dơi"


@pytest.mark.parametrize("agency", [None, LONG_AGENCY])
def test_issue18_header_columns_sit_side_by_side_and_the_title_below_both(
    klass, learner, agency, db_session
):
    """The certificate read back (pdftotext boxes, filled rules): the agency column and the
    Quốc hiệu column start on the same line, left and right of each other; the agency's rule
    lies under its name; the title keeps its 7 mm below the taller column, also when the
    agency's name takes three lines."""
    from tests.documents import pdfcheck

    if agency:
        issuer = certificates.default_issuer()
        issuer.name = agency.upper()
        db_session.flush()
    complete(klass, learner)
    cert = certificates.issue(Actor(None), klass, learner, utcnow())
    data = certificates.read_pdf(cert)
    found = pdfcheck.lines(data)
    nation = pdfcheck.first(found, pdfcheck.NATION)
    motto = pdfcheck.first(found, "Độc lập - Tự do - Hạnh phúc")
    title = pdfcheck.first(found, "GIẤY CHỨNG NHẬN")
    left = [ln for ln in found if ln.y1 <= title.y0 and ln.x1 < nation.x0]
    assert len(left) == (3 if agency else 1) + (1 if cert.data["issuer"]["parent_name"] else 0)
    assert abs(left[0].y0 - nation.y0) < 0.5, (left[0], nation)
    assert motto.y0 >= nation.y1 - 0.5
    rule = [r for r in pdfcheck.rules(data) if r[2] < title.y0]
    assert rule, "no rule under the agency's name"
    x0, x1, y = rule[0]
    assert y > left[-1].y1 - 0.5
    assert abs((x0 + x1) / 2 - left[-1].centre) < 1 * pdfcheck.MM
    bottom = max(y, motto.y1)
    assert 7 * pdfcheck.MM - 1 <= title.y0 - bottom <= 10 * pdfcheck.MM, (title, bottom)


def test_issue18_certificate_qr_png_decodes_to_the_signed_text(klass, learner, tmp_path):
    """The certificate's QR image (zxing-cpp) is an 8-bit grey PNG, PNG_SCALE pixels a module
    with the standard quiet zone of four modules, and an independent decoder (zbarimg) reads
    back exactly the verification URL and signed payload it was made from."""
    from PIL import Image

    require(shutil.which("zbarimg") is not None, "zbarimg is not installed")
    complete(klass, learner)
    cert = certificates.issue(Actor(None), klass, learner, utcnow())
    text = certificates.qr_text(cert)
    assert len(text) > 400  # the signed claims: a large symbol, not a short URL
    data = qrcodes.png(text)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.mode == "L"
    # 4 + (17 + 4 × version) + 4 modules at PNG_SCALE pixels: the corner is light (quiet zone),
    # the finder pattern starts dark four modules in.
    side = image.size[0]
    assert image.size == (side, side)
    assert side % qrcodes.PNG_SCALE == 0
    modules = side // qrcodes.PNG_SCALE
    assert (modules - 8 - 17) % 4 == 0
    assert modules > 8 + 21
    quiet = 4 * qrcodes.PNG_SCALE
    assert image.getpixel((quiet - 1, quiet - 1)) == 255
    assert image.getpixel((quiet, quiet)) == 0
    assert set(image.tobytes()) == {0, 255}
    (tmp_path / "qr.png").write_bytes(data)
    out = subprocess.run(
        ["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(tmp_path / "qr.png")],
        capture_output=True,
        check=True,
    ).stdout
    assert out.decode("utf-8").rstrip("\n") == text
    encoded = qrcodes.png_data_uri(text).removeprefix("data:image/png;base64,")
    assert base64.b64decode(encoded) == data


def test_issue18_certificate_qr_uses_the_fixed_mask_and_still_decodes():
    """The encoder does not score the eight mask patterns on every certificate: the symbol
    carries QR_MASK, also for a text whose best-scoring mask is another (zxing-cpp picks 0 for
    this one when left to choose), and it decodes to the text it was made from."""
    import zxingcpp
    from PIL import Image

    text = "https://learnhub.example/verify/ABC#LH1." + "x" * 460
    chosen = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    assert zxingcpp.read_barcode(chosen.to_image()).extra["DataMask"] != qrcodes.QR_MASK
    read = zxingcpp.read_barcode(Image.open(io.BytesIO(qrcodes.png(text))))
    assert read.text == text
    assert read.extra["DataMask"] == qrcodes.QR_MASK
    assert read.extra["ECLevel"] == "M"


@pytest.mark.parametrize(
    "code",
    [
        None,  # a random one, as issued
        "3RSWDXNLPEBYQ65SMWZFJ7YMUM",  # CI, 2026-12-03: 174 pt at 10 pt, the column is 173
        "W" * 26,  # the widest the alphabet allows
    ],
)
def test_the_lookup_code_is_printed_beside_the_qr_code_with_its_label(
    klass, learner, monkeypatch, code
):
    """Read back (pdftotext boxes): the lines beside the QR code (số hiệu, số vào sổ, mã tra
    cứu and the 26-letter code on the line after its label) start at the same left edge. The
    code after its label on one line was too wide for the column beside the QR code, so it
    fell below the code, apart from its label (seen on the demo certificate at 150 dpi); on
    its own line, a code of wide letters (one random code in nine) still did, until the
    lines started past the QR code instead of flowing around it."""
    from tests.documents import pdfcheck

    if code is not None:
        monkeypatch.setattr(certificates, "_new_code", lambda: code)
    complete(klass, learner)
    cert = certificates.issue(Actor(None), klass, learner, utcnow())
    found = pdfcheck.lines(certificates.read_pdf(cert))
    serial = pdfcheck.first(found, "Số hiệu:")
    label = pdfcheck.first(found, "Mã tra cứu:")
    code = pdfcheck.first(found, cert.code)
    assert label.text == "Mã tra cứu:"
    for line in (label, code):
        assert abs(line.x0 - serial.x0) < 1 * pdfcheck.MM, (line, serial)
    assert 0 < code.y0 - label.y1 < 3 * pdfcheck.MM
