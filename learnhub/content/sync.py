"""Loading content/ into the database: units, modules (new versions when files change), banks."""

from collections.abc import Iterator
from pathlib import Path

from learnhub.audit.services import Actor
from learnhub.catalog import services as catalog
from learnhub.content.modules import load_module, module_folders
from learnhub.content.orgunits import read_units
from learnhub.orgunits import services as units
from learnhub.quizzes import services as quizzes


def sync_content(
    actor: Actor, root: Path, storage: Path, commit: str | None = None
) -> Iterator[str]:
    """Load an already checked content tree; yields one line of report per thing loaded."""
    rows, _ = read_units(root / "org-units.toml")
    created, updated = units.sync_units(actor, rows)
    yield f"org units: {len(rows)} in file, {created} created, {updated} updated"
    for folder in module_folders(root):
        source, _ = load_module(folder)
        module, changed = catalog.sync_module(actor, source, storage, commit)
        state = f"new version {module.latest_version.number}" if changed else "unchanged"
        line = f"module {module.slug}: {state} ({module.latest_version.content_hash[:12]})"
        # A bank is loaded with each new version (and once for modules loaded before banks were).
        if changed or (module.latest_version.banks and not quizzes.active_questions(module)):
            report = quizzes.sync_bank(actor, module, module.latest_version)
            line += f", questions: {report.added} added, {report.unchanged} unchanged"
        yield line
