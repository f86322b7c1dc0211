"""Reading a module folder (module.toml, lessons/, questions/, assets/) with every problem found."""

import hashlib
import json
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from learnhub.content import completion
from learnhub.content.errors import Problem, toml_error_line
from learnhub.formats.banks import BANK_PATTERNS, read_bank
from learnhub.formats.markdown import LESSON_FILE, LINK, link_problem

DEFAULT_RULE = completion.DEFAULT
CATEGORIES = ("doi-ngoai-nhan-dan", "phi-chinh-phu", "ky-nang")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,98}[a-z0-9]$")
MAX_ASSET = 5 * 1024 * 1024
#: Magic bytes of the asset types lessons may use (no SVG: it can carry script).
ASSET_TYPES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
    b"%PDF-": "application/pdf",
}
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}

# key -> (type, default, allowed values or range)
TOP = {
    "title": (str, None, None),
    "category": (str, None, CATEGORIES),
    "summary": (str, None, None),
    "periods": (int, None, (1, 500)),
    "legal_refs": (list, [], None),
    "status": (str, "draft", ("draft", "published")),
}
TABLES = {
    "quiz": {
        "title": (str, "Kiểm tra cuối chuyên đề", None),
        "time_limit_minutes": (int, 0, (0, 600)),
        "attempts": (int, 0, (0, 100)),
        "grading": (str, "highest", ("highest", "last", "average", "first")),
        "pass_mark": (float, 5.0, (0, 10)),
        "per_category": (int, 0, (0, 1000)),
        "shuffle_questions": (bool, True, None),
        "shuffle_choices": (bool, True, None),
    },
    # Parsed and validated by content.completion (the typed rule); its defaults, for filling in.
    "completion": {
        key: (type(value), value, None) for key, value in DEFAULT_RULE.as_dict().items()
    },
    "certificate": {
        "issue": (str, "review", ("auto", "review", "none")),
        "validity_months": (int, 0, (0, 600)),
    },
}


def sniff(data: bytes) -> str | None:
    """The MIME type of an accepted asset, judged by its content; None when not accepted."""
    for magic, mime in ASSET_TYPES.items():
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True)
class LessonSource:
    position: int
    slug: str
    title: str
    body: str
    legal_refs: tuple[str, ...] = ()


@dataclass
class ModuleSource:
    slug: str
    meta: dict
    lessons: list[LessonSource] = field(default_factory=list)
    banks: dict[str, str] = field(default_factory=dict)
    #: Asset name -> file content.
    assets: dict[str, bytes] = field(default_factory=dict)

    def content_hash(self) -> str:
        return content_hash(
            self.meta,
            [(x.position, x.slug, x.title, x.body, list(x.legal_refs)) for x in self.lessons],
            self.banks,
            {name: hashlib.sha256(data).hexdigest() for name, data in self.assets.items()},
        )


def content_hash(meta: dict, lessons: list, banks: dict, asset_hashes: dict) -> str:
    """SHA-256 of a module's canonical content (the same content gives the same hash)."""
    canonical = json.dumps(
        {
            "meta": meta,
            "lessons": [list(x) for x in lessons],
            "banks": banks,
            "assets": asset_hashes,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _key_line(lines: list[str], key: str, table: str | None = None) -> int:
    in_table = table is None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_table = stripped == f"[{table}]"
            continue
        if in_table and re.match(rf"^{re.escape(key)}\s*=", stripped):
            return number
    return 1


def _check_value(value, spec, where: str) -> str | None:
    kind, _default, allowed = spec
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is int and isinstance(value, bool):
        return f"'{where}' must be a whole number"
    if not isinstance(value, kind):
        return f"'{where}' must be {kind.__name__}"
    if kind is list and not all(isinstance(v, str) and v.strip() for v in value):
        return f"'{where}' must be a list of non-empty strings"
    if (
        isinstance(allowed, tuple)
        and len(allowed) == 2
        and isinstance(allowed[0], int | float)
        and kind in (int, float)
    ):
        low, high = allowed
        if not low <= value <= high:
            return f"'{where}' must be between {low} and {high}"
    elif allowed and value not in allowed:
        return f"'{where}' must be one of: {', '.join(allowed)}"
    if kind is str and not value.strip():
        return f"'{where}' must not be empty"
    return None


def read_meta(path: Path) -> tuple[dict, list[Problem]]:
    """module.toml as normalised data (defaults filled in), and every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, [Problem(path, 1, "module.toml is missing")]
    except UnicodeDecodeError:
        return {}, [Problem(path, 1, "not UTF-8")]
    lines = text.splitlines()
    problems = _nfc_problems(path, lines)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return {}, [*problems, Problem(path, toml_error_line(exc), f"TOML syntax: {exc}")]
    meta: dict = {}
    for key in data:
        if key not in TOP and key not in TABLES:
            problems.append(Problem(path, _key_line(lines, key), f"unknown key '{key}'"))
    for key, spec in TOP.items():
        if key not in data:
            if spec[1] is None:
                problems.append(Problem(path, 1, f"missing key '{key}'"))
            meta[key] = spec[1]
            continue
        error = _check_value(data[key], spec, key)
        if error:
            problems.append(Problem(path, _key_line(lines, key), error))
        meta[key] = data[key]
    for table, specs in TABLES.items():
        given = data.get(table, {})
        if not isinstance(given, dict):
            problems.append(Problem(path, _key_line(lines, table), f"'{table}' must be a table"))
            given = {}
        if table == "completion":
            rule, errors = completion.parse(given)
            for key, message in errors.items():
                where = _key_line(lines, key, table)
                problems.append(Problem(path, where, f"completion.{key}: {message}"))
            meta[table] = rule.as_dict()
            continue
        section = {}
        for key in given:
            if key not in specs:
                problems.append(
                    Problem(path, _key_line(lines, key, table), f"unknown key '{table}.{key}'")
                )
        for key, spec in specs.items():
            value = given.get(key, spec[1])
            if key in given:
                error = _check_value(value, spec, f"{table}.{key}")
                if error:
                    problems.append(Problem(path, _key_line(lines, key, table), error))
            section[key] = float(value) if spec[0] is float and isinstance(value, int) else value
        meta[table] = section
    return meta, problems


def _nfc_problems(path: Path, lines: list[str]) -> list[Problem]:
    return [
        Problem(path, n, "text is not in Unicode NFC")
        for n, line in enumerate(lines, start=1)
        if not unicodedata.is_normalized("NFC", line)
    ]


FRONT = re.compile(r"\A\+\+\+\n(.*?)\n\+\+\+\n", re.S)


def split_front_matter(text: str) -> tuple[str, str]:
    """(front matter TOML, Markdown body); the front matter may be empty."""
    found = FRONT.match(text)
    if not found:
        return "", text
    return found.group(1), text[found.end() :]


def read_lesson(path: Path, position: int, slug: str, assets: set[str], lesson_files: set[str]):
    problems: list[Problem] = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [Problem(path, 1, "not UTF-8")]
    lines = text.splitlines()
    problems += _nfc_problems(path, lines)
    front, body = split_front_matter(text)
    if not front:
        problems.append(Problem(path, 1, 'missing front matter (+++ title = "…" +++)'))
        meta = {}
    else:
        try:
            meta = tomllib.loads(front)
        except tomllib.TOMLDecodeError as exc:
            problems.append(
                Problem(path, toml_error_line(exc) + 1, f"front matter TOML syntax: {exc}")
            )
            meta = {}
    for key in meta:
        if key not in ("title", "legal_refs"):
            problems.append(
                Problem(path, 1 + _key_line(front.splitlines(), key), f"unknown key '{key}'")
            )
    title = meta.get("title", "")
    if front and (not isinstance(title, str) or not title.strip()):
        problems.append(Problem(path, 2, "missing key 'title'"))
        title = ""
    refs = meta.get("legal_refs", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        problems.append(
            Problem(
                path,
                1 + _key_line(front.splitlines(), "legal_refs"),
                "'legal_refs' must be a list of strings",
            )
        )
        refs = []
    offset = len(text[: len(text) - len(body)].splitlines())
    for number, line in enumerate(body.splitlines(), start=offset + 1):
        for image, target in LINK.findall(line):
            problem = link_problem(target, bool(image), assets, lesson_files)
            if problem:
                problems.append(Problem(path, number, problem))
    if not body.strip():
        problems.append(Problem(path, offset + 1, "the lesson has no text"))
    lesson = LessonSource(position, slug, str(title).strip(), body.strip() + "\n", tuple(refs))
    return lesson, problems


def load_module(folder: Path) -> tuple[ModuleSource | None, list[Problem]]:
    """Read one module folder; the source is only usable when there are no problems."""
    problems: list[Problem] = []
    slug = folder.name
    if not SLUG.match(slug):
        problems.append(
            Problem(folder, 1, f"folder name '{slug}' must be lower-case a-z, 0-9 and -")
        )
    meta, meta_problems = read_meta(folder / "module.toml")
    problems += meta_problems
    assets: dict[str, bytes] = {}
    asset_dir = folder / "assets"
    if asset_dir.is_dir():
        for path in sorted(asset_dir.iterdir()):
            if path.name.startswith("."):
                continue
            data = path.read_bytes()
            if not path.is_file():
                problems.append(Problem(path, 1, "assets/ holds files only"))
            elif len(data) > MAX_ASSET:
                problems.append(
                    Problem(path, 1, f"asset larger than {MAX_ASSET // 1024 // 1024} MB")
                )
            elif sniff(data) is None:
                problems.append(
                    Problem(path, 1, "asset type not accepted (PNG, JPEG, GIF, WebP, PDF)")
                )
            else:
                assets[path.name] = data
    lesson_dir = folder / "lessons"
    files = sorted(lesson_dir.glob("*")) if lesson_dir.is_dir() else []
    lesson_files = {p.name for p in files}
    lessons: list[LessonSource] = []
    positions: dict[int, Path] = {}
    for path in files:
        found = LESSON_FILE.match(path.name)
        if not found:
            problems.append(
                Problem(path, 1, "lesson file name must be NN-slug.md (e.g. 01-gioi-thieu.md)")
            )
            continue
        position = int(found.group(1))
        if position in positions:
            problems.append(Problem(path, 1, f"two lessons numbered {position:02d}"))
        positions[position] = path
        lesson, lesson_problems = read_lesson(
            path, position, found.group(2), set(assets), lesson_files
        )
        problems += lesson_problems
        if lesson is not None:
            lessons.append(lesson)
    if not positions:
        problems.append(
            Problem(folder / "module.toml", 1, "the module has no lessons (lessons/NN-slug.md)")
        )
    else:
        for missing in sorted(set(range(1, max(positions) + 1)) - set(positions)):
            problems.append(Problem(lesson_dir, 1, f"lesson {missing:02d} is missing"))
    banks: dict[str, str] = {}
    bank_files = [p for pattern in BANK_PATTERNS for p in (folder / "questions").glob(pattern)]
    for path in sorted(bank_files):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(Problem(path, 1, "not UTF-8"))
            continue
        problems += _nfc_problems(path, text.splitlines())
        _questions, errors = read_bank(path.name, text)
        kind = "Moodle XML" if path.suffix == ".xml" else "GIFT"
        problems += [Problem(path, e.line, f"{kind}: {e.message}") for e in errors]
        banks[path.name] = text
    source = ModuleSource(slug, meta, sorted(lessons, key=lambda x: x.position), banks, assets)
    return source, problems


def module_folders(root: Path) -> list[Path]:
    """The module folders under a content root, or [root] when root is one module."""
    if (root / "module.toml").exists():
        return [root]
    modules = root / "modules"
    return sorted(p for p in modules.iterdir() if p.is_dir()) if modules.is_dir() else []
