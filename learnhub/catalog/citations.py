"""Legal references: which lessons and questions cite which document."""

from dataclasses import dataclass

from learnhub.catalog.models import Module, ModuleVersion
from learnhub.formats.banks import read_bank


def document_of(reference: str) -> str:
    """The document a reference names (the part before the first comma)."""
    return reference.split(",", 1)[0].strip()


@dataclass(frozen=True)
class Citation:
    document: str
    reference: str
    module: Module
    version: ModuleVersion
    #: "module", "lesson" or "question".
    kind: str
    #: Lesson slug or question name.
    item: str
    title: str


def citations(modules: list[tuple[Module, ModuleVersion]]) -> list[Citation]:
    """Every citation in the given module versions."""
    found: list[Citation] = []
    for module, version in modules:
        for ref in version.meta.get("legal_refs", []):
            found.append(
                Citation(document_of(ref), ref, module, version, "module", "", version.title)
            )
        for lesson in version.lessons:
            for ref in lesson.legal_refs:
                found.append(
                    Citation(
                        document_of(ref), ref, module, version, "lesson", lesson.slug, lesson.title
                    )
                )
        for name, text in version.banks.items():
            questions, _errors = read_bank(name, text)
            for q in questions:
                for ref in q.refs:
                    found.append(
                        Citation(document_of(ref), ref, module, version, "question", q.name, q.text)
                    )
    return found
