"""The ONE document frame (templates/_pdf/frame.html, certificates/frame.py), tested on a long
document: page numbers from page 2 only, centred in the top margin, 13–14 pt; the agency rule;
margins; place and date; Kính gửi, the signature block, Nơi nhận (issue 17, finding 1)."""

from datetime import date

import pytest
from jinja2 import ChoiceLoader, DictLoader

from learnhub import pdf
from learnhub.certificates.frame import document_frame
from learnhub.certificates.models import Issuer
from tests.documents import pdfcheck

DOC = """{% import "_pdf/frame.html" as frame %}<html lang="vi"><head><meta charset="utf-8">
<style>{{ frame.page_style(landscape=landscape) }}</style></head><body>
{{ frame.header(f) }}{{ frame.title("BÁO CÁO", "Thử khung văn bản") }}{{ frame.recipients(f) }}
{% for i in range(paragraphs) %}<p>Đoạn {{ i }}: nội dung thử nghiệm của văn bản.</p>{% endfor %}
{{ frame.closing(f) }}</body></html>"""


@pytest.fixture
def render(app):
    loader = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([DictLoader({"test_frame.html": DOC}), loader])
    yield lambda **kw: pdf.render("test_frame.html", **kw)
    app.jinja_env.loader = loader


@pytest.mark.parametrize("landscape", [False, True])
def test_finding1_frame_page_numbers_rule_margins(app, render, landscape):
    with app.test_request_context():
        f = document_frame(on=date(2026, 2, 5), symbol="BC", kind="report")
        data = render(f=f, landscape=landscape, paragraphs=60)
    assert pdfcheck.page_count(data) >= 2
    pdfcheck.assert_frame(data, agency="SỞ NỘI VỤ", place_date="Cà Mau, ngày 05 tháng 02 năm 2026")
    text = pdfcheck.text(data)
    assert "Kính gửi: Ủy ban nhân dân tỉnh Cà Mau." in text
    assert "Nơi nhận:" in text
    assert "- Lưu: VT." in text
    assert "GIÁM ĐỐC" in text
    assert "Số: /BC-SNV" in " ".join(text.replace("\u00a0", " ").split())


def test_frame_rule_follows_a_long_agency_name(app, render):
    # An issuer of its own (a default issuer other tests committed must not stand in for it).
    school = Issuer(
        code="TCT",
        name="TRƯỜNG CHÍNH TRỊ TỈNH",
        parent_name="UBND TỈNH CÀ MAU",
        place="Cà Mau",
        signer_authority="",
        signer_for="",
        signer_title="HIỆU TRƯỞNG",
        signer_name="",
    )
    with app.test_request_context():
        f = document_frame(school, on=date(2026, 3, 1))
        data = render(f=f, landscape=False, paragraphs=60)
    assert f.agency == "TRƯỜNG CHÍNH TRỊ TỈNH"
    pdfcheck.assert_frame(data, agency=f.agency, place_date="Cà Mau, ngày 01 tháng 3 năm 2026")
