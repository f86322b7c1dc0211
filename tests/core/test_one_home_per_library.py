"""Issue 17: WeasyPrint, python-docx, openpyxl, the QR encoders (segno, zxing-cpp) and gunicorn
each have one home (the module to look at when the library changes); nothing else in learnhub
imports them."""

import ast
from pathlib import Path

import learnhub

HOMES = {
    "weasyprint": "pdf.py",
    "docx": "docx.py",
    "openpyxl": "xlsx.py",
    "segno": "qrcodes.py",
    "zxingcpp": "qrcodes.py",
    "gunicorn": "serving.py",
}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_each_document_library_is_imported_by_its_one_home_only():
    package = Path(learnhub.__file__).parent
    found: dict[str, list[str]] = {library: [] for library in HOMES}
    for path in package.rglob("*.py"):
        for library in HOMES.keys() & _imported_roots(path):
            found[library].append(path.relative_to(package).as_posix())
    assert found == {library: [home] for library, home in HOMES.items()}
