"""Finding 7 of issue 13 (PDF part): PDF_TIMEOUT holds under gunicorn's threaded workers.

A request is answered on a worker thread, where a signal alarm never fires: the render runs in a
render process that is killed at the limit, whichever thread asked for it.
"""

import io
import os
import threading
import time

import pytest
from pypdf import PdfReader

from learnhub import pdf

SLOW_TEXT = "Nguyễn Thị Hồng Nhung, Sở Nội vụ tỉnh Cà Mau. " * 20_000


def _on_a_thread(app, action) -> dict:
    """Run action() on a new (non-main) thread inside a request; its result or exception."""
    outcome: dict = {}

    def run():
        with app.test_request_context():
            started = time.perf_counter()
            try:
                outcome["result"] = action()
            except Exception as exc:
                outcome["error"] = exc
            outcome["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    assert not thread.is_alive(), "the render is still running: nothing stopped it"
    return outcome


def _minimal(text: str = "Lê Văn Ửng") -> bytes:
    return pdf.render("bench/minimal.html", title="Thử", text=text)


def test_finding_7_pdf_timeout_stops_a_render_on_a_worker_thread(app, monkeypatch):
    warm = _on_a_thread(app, _minimal)  # starts the render process outside any limit
    assert "Lê Văn Ửng" in PdfReader(io.BytesIO(warm["result"])).pages[0].extract_text()
    pid = pdf._process.process.pid
    monkeypatch.setitem(app.config, "PDF_TIMEOUT", 0.2)
    slow = _on_a_thread(app, lambda: _minimal(SLOW_TEXT))
    assert isinstance(slow.get("error"), pdf.RenderTimeout), slow
    assert "stopped" in str(slow["error"])
    assert slow["seconds"] < 5
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left rendering
        os.kill(pid, 0)
    monkeypatch.setitem(app.config, "PDF_TIMEOUT", 30)
    again = _on_a_thread(app, _minimal)  # the next render starts a new process
    assert again["result"].startswith(b"%PDF-")
    assert pdf._process.process.pid != pid


def test_a_render_failure_is_reported_and_the_process_kept(app, monkeypatch):
    with app.test_request_context():
        _minimal()
        pid = pdf._process.process.pid
        monkeypatch.setattr(
            pdf, "render_template", lambda *a, **k: 42
        )  # not HTML: WeasyPrint fails
        with pytest.raises(pdf.RenderFailed):
            _minimal()
        monkeypatch.undo()
        assert _minimal().startswith(b"%PDF-")
        assert pdf._process.process.pid == pid
