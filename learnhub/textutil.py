"""Vietnamese text: NFC, accent-insensitive folding, and Vietnamese collation.

The collation is the one ICU's Vietnamese tailoring gives (tests/core/test_finding3_collation.py
holds a reference list made with it): letters in the Vietnamese alphabet order
a ă â b c d đ e ê (f) g h i (j) k l m n o ô ơ p q r s t u ư v (w) x y (z), tones secondary
(a < à < ả < ã < á < ạ, compared only when the letters are equal), case last; a space sorts
before any letter, digits before letters.
"""

import re
import unicodedata

_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_BASE = 40  # ranks below this are spaces, punctuation and digits
_BASE_RANK = {ch: _LETTER_BASE + i for i, ch in enumerate(_ALPHABET)}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def nfc(text: str) -> str:
    """Unicode NFC: the one form text is compared and stored in."""
    return unicodedata.normalize("NFC", text)


def clean_text(text: str) -> str:
    """Typed text as it is stored: no control characters but newline and tab, "\n" line
    endings, NFC, no surrounding whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return nfc("".join(ch for ch in text if ch in "\n\t" or ord(ch) >= 32)).strip()


def fold(text: str) -> str:
    """Lower-case, without diacritics (đ -> d): for search that ignores accents."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d")


def file_slug(text: str) -> str:
    """*text* for a file's name: folded (no diacritics, đ as d), runs of anything but letters
    and digits as one hyphen ("Nguyễn Thị Hồng Nhung" -> "nguyen-thi-hong-nhung")."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def _rank(base: str) -> int:
    if base in _BASE_RANK:
        return _BASE_RANK[base]
    if base.isspace():
        return 1
    if base.isdigit():
        return 20 + int(base) if base.isascii() else 30
    if base.isalpha():  # a letter outside the alphabet: after every Vietnamese letter
        return _LETTER_BASE + len(_ALPHABET) + 1
    return 2  # punctuation and symbols: after a space, before digits


def collation_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Sort key of *text* in Vietnamese order: (letters, tones, case), compared in that order."""
    primary, secondary, tertiary = [], [], []
    for ch in nfc(" ".join(text.split())):
        lower = ch.lower()
        tone = 0
        base = ""
        for part in unicodedata.normalize("NFD", lower):
            if part in _TONES:
                tone = _TONES[part]
            elif not unicodedata.combining(part) or base:
                base += part
        base = nfc(base)
        primary.append(_rank(base))
        secondary.append(tone)
        tertiary.append(0 if ch == lower else 1)  # lower case first, as ICU
    return tuple(primary), tuple(secondary), tuple(tertiary)


def vn_sort_key(full_name: str) -> tuple:
    """Sort key for Vietnamese names: given name (the last word), then family and middle names."""
    words = full_name.split()
    if not words:
        return (collation_key(""), collation_key(""))
    return (collation_key(words[-1]), collation_key(" ".join(words[:-1])))


def _encode(key: tuple[tuple[int, ...], ...]) -> str:
    # Two digits a weight, each level ended by "00" (every weight is at least 01 here), so that
    # comparing the strings character by character compares the keys level by level.
    return "".join("".join(f"{w + 1:02d}" for w in level) + "00" for level in key)


def name_sort_string(full_name: str) -> str:
    """vn_sort_key as a string of digits, for ORDER BY in SQL: the same order on every database
    (digits sort alike under any collation), so paged lists follow Vietnamese name order."""
    given, rest = vn_sort_key(full_name)
    return (_encode(given) + _encode(rest))[:400]
