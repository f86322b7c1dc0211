"""Writing a module version back as files that `content check` accepts and sync reads the same."""

from pathlib import Path

import tomli_w

from learnhub.catalog.models import Module, ModuleVersion


def _toml(data: dict) -> str:
    return tomli_w.dumps(data, multiline_strings=True)


def module_toml(module: Module, version: ModuleVersion) -> str:
    meta = dict(version.meta)
    meta["status"] = "published" if module.published_version_id == version.id else "draft"
    top = {k: meta[k] for k in ("title", "category", "summary", "periods", "legal_refs", "status")}
    tables = {k: meta[k] for k in ("quiz", "completion", "certificate") if k in meta}
    return _toml(top) + "\n" + _toml(tables)


def lesson_file(title: str, refs: list[str], body: str) -> str:
    front = _toml({"title": title, "legal_refs": refs}).strip()
    return f"+++\n{front}\n+++\n\n{body}"


def export_version(module: Module, version: ModuleVersion, target: Path, asset_bytes) -> Path:
    """Write *version* under target/<slug>/; asset_bytes(sha256) gives a stored file's bytes."""
    folder = target / module.slug
    (folder / "lessons").mkdir(parents=True, exist_ok=True)
    (folder / "module.toml").write_text(module_toml(module, version), encoding="utf-8")
    for lesson in version.lessons:
        name = f"{lesson.position:02d}-{lesson.slug}.md"
        text = lesson_file(lesson.title, list(lesson.legal_refs), lesson.body)
        (folder / "lessons" / name).write_text(text, encoding="utf-8")
    if version.banks:
        (folder / "questions").mkdir(exist_ok=True)
        for name, text in version.banks.items():
            (folder / "questions" / name).write_text(text, encoding="utf-8")
    if version.assets:
        (folder / "assets").mkdir(exist_ok=True)
        for name, digest in version.assets.items():
            (folder / "assets" / name).write_bytes(asset_bytes(digest))
    return folder
