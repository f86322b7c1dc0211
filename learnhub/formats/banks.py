"""A question file by its name: GIFT (.gift, .txt) or Moodle XML (.xml)."""

from learnhub.formats import gift, moodlexml
from learnhub.formats.question import ParseError, Question

#: The question files a module folder may ship under questions/.
BANK_PATTERNS = ("*.gift", "*.xml")


def read_bank(name: str, text: str) -> tuple[list[Question], list[ParseError]]:
    """Every question of a bank file (texts in NFC) and every problem found, with its line.
    Moodle XML questions of a type LearnHub does not support count as problems here: a module's
    own files must hold only what the quiz can ask."""
    if name.lower().endswith(".xml"):
        result = moodlexml.parse(text)
        skipped = [ParseError(s.line, f"{s.name}: {s.reason}") for s in result.skipped]
        return result.questions, [*result.errors, *skipped]
    return gift.parse(text)
