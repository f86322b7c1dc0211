"""Vietnamese text: NFC, accent-insensitive folding, and name sorting."""

import unicodedata

# Vietnamese alphabet order: a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y.
_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_BASE_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def fold(text: str) -> str:
    """Lower-case, without diacritics (đ -> d): for search that ignores accents."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d")


def _word_key(word: str) -> tuple:
    letters = []
    tones = []
    for ch in unicodedata.normalize("NFC", word.casefold()):
        decomposed = unicodedata.normalize("NFD", ch)
        tone = 0
        base = ""
        for part in decomposed:
            if part in _TONES:
                tone = _TONES[part]
            else:
                base += part
        base = unicodedata.normalize("NFC", base)
        letters.append(_BASE_RANK.get(base, 100 + ord(base[0]) if base else 0))
        tones.append(tone)
    # Letters decide first; tones break ties (a < à < ả < ã < á < ạ).
    return (tuple(letters), tuple(tones))


def vn_sort_key(full_name: str) -> tuple:
    """Sort key for Vietnamese names: given name, then family and middle names."""
    words = full_name.split()
    if not words:
        return ((), ())
    return (_word_key(words[-1]), tuple(_word_key(w) for w in words[:-1]))
