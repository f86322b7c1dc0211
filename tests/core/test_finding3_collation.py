"""Issue 16, finding 3: lists for people are in Vietnamese order, not by code point or last word.

The reference orders were made with ICU's Vietnamese collation (PyICU, locale "vi") and checked by
hand against the Vietnamese alphabet (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y,
tones secondary). When PyICU is installed the test also compares with it directly.
"""

import random
import tomllib
from pathlib import Path

import pytest

from learnhub.orgunits import services as units
from learnhub.reports.views import _module_choices
from learnhub.textutil import collation_key, name_sort_string, vn_sort_key

ROOT = Path(__file__).resolve().parents[2]

#: 30 communes of content/org-units.toml, in ICU's Vietnamese order.
COMMUNES = [
    "Phường An Xuyên",
    "Phường Bạc Liêu",
    "Phường Giá Rai",
    "Phường Láng Tròn",
    "Phường Lý Văn Lâm",
    "Phường Vĩnh Trạch",
    "Xã An Trạch",
    "Xã Cái Nước",
    "Xã Đá Bạc",
    "Xã Đầm Dơi",
    "Xã Đông Hải",
    "Xã Gành Hào",
    "Xã Hòa Bình",
    "Xã Hồng Dân",
    "Xã Hưng Hội",
    "Xã Hưng Mỹ",
    "Xã Khánh Bình",
    "Xã Khánh Hưng",
    "Xã Lương Thế Trân",
    "Xã Ninh Quới",
    "Xã Phan Ngọc Hiển",
    "Xã Phong Hiệp",
    "Xã Tân Ân",
    "Xã Tân Tiến",
    "Xã Trần Phán",
    "Xã U Minh",
    "Xã Vĩnh Hậu",
    "Xã Vĩnh Lộc",
    "Xã Vĩnh Lợi",
    "Xã Vĩnh Thanh",
]

#: 30 personal names by given name, then family and middle names (ICU's order of each part).
PEOPLE = [
    "Võ Văn An",
    "Phạm Thị Ánh",
    "Nguyễn Thị Ân",
    "Huỳnh Văn Ẩn",
    "Đặng Thị Ấn",
    "Đỗ Thị Bích",
    "Đinh Thị Dung",
    "Dương Văn Dũng",
    "Bùi Văn Đức",
    "Tạ Thị Hà",
    "Châu Văn Hạ",
    "Hồ Thị Hài",
    "Lâm Thị Hải",
    "Quách Văn Hải",
    "Trương Thị Hoa",
    "Mai Văn Hòa",
    "Phan Văn Hóa",
    "Ngô Thị Hồng Nhung",
    "Nguyễn Thị Hồng Nhung",
    "Lý Văn Nhựt",
    "La Thị On",
    "Kiều Văn Ôn",
    "Tô Thị Ơn",
    "Từ Thị Thanh",
    "Cao Văn Thạnh",
    "Lưu Văn Thắng",
    "Lê Văn Ún",
    "Trần Thị Út",
    "Nguyễn Văn Ửng",
    "Diệp Thị Yến",
]


def _shuffled(items: list[str]) -> list[str]:
    out = list(items)
    random.Random(16).shuffle(out)
    assert out != items
    return out


def test_reference_communes_come_from_the_unit_tree():
    text = (ROOT / "content/org-units.toml").read_text(encoding="utf-8")
    names = {u["name"] for u in tomllib.loads(text)["unit"]}
    assert set(COMMUNES) <= names


def test_finding3_communes_sort_in_vietnamese_order():
    assert sorted(_shuffled(COMMUNES), key=collation_key) == COMMUNES


def test_finding3_people_sort_by_given_name_in_vietnamese_order():
    assert sorted(_shuffled(PEOPLE), key=vn_sort_key) == PEOPLE
    # The string form used in SQL ORDER BY gives the same order.
    assert sorted(_shuffled(PEOPLE), key=name_sort_string) == PEOPLE


def test_same_order_as_icu_when_installed():
    icu = pytest.importorskip("icu")
    collator = icu.Collator.createInstance(icu.Locale("vi"))
    assert sorted(COMMUNES, key=collator.getSortKey) == COMMUNES
    text = (ROOT / "content/org-units.toml").read_text(encoding="utf-8")
    every = sorted({u["name"] for u in tomllib.loads(text)["unit"]})
    assert sorted(every, key=collation_key) == sorted(every, key=collator.getSortKey)

    def icu_name(name):
        words = name.split()
        return collator.getSortKey(words[-1]), collator.getSortKey(" ".join(words[:-1]))

    assert sorted(PEOPLE, key=icu_name) == PEOPLE


def test_finding3_unit_tree_orders_siblings_by_whole_name(app):
    with app.app_context():
        tree = [u.name for u in units.current_tree()]
    communes = [n for n in tree if n in ("Xã Cái Nước", "Xã Đá Bạc", "Xã Khánh Bình", "Xã Tân Ân")]
    assert communes == ["Xã Cái Nước", "Xã Đá Bạc", "Xã Khánh Bình", "Xã Tân Ân"]


def test_finding3_records_module_filter_in_vietnamese_order(app):
    with app.app_context():
        titles = [title for _slug, title in _module_choices()]
    assert titles == sorted(titles, key=collation_key)
    assert any(t.startswith("Đ") for t in titles)
    first_d = next(i for i, t in enumerate(titles) if t.startswith("Đ"))
    assert all(not t.startswith(("V", "X")) for t in titles[:first_d])
