"""Bad documents: each is refused with the line that is wrong."""

import pytest

from models.core.errors import InputError
from models.core.importer import parse_document

HEAD = ("1. Компанияның ESG практикаларын дамытудың 2025-2032 жылдарға арналған жол картасы\n"
        " E аспектісі\n\n\t№ реті\n\tІс-шараның атауы\n\tОрындау мерзімі*\n\tАяқтау нысаны\n"
        "\tЖауапты орындаушы\n\tЖауапты құрылымдық бөлімше\n\n\tТақырып\n\n")


def row(n, title="Атауы", deadline="2026 ж.", form="Бұйрық", who="Бас директор", unit="Департамент"):
    return f"\t{n}\n\t{title}\n\t{deadline}\n\t{form}\n\t{who}\n\t{unit}\n\n"


def test_minimal_document_parses():
    roadmap = parse_document(HEAD + row(1) + row(2, deadline="Жыл сайын"))
    assert [m.id for m in roadmap.measures] == ["E1", "E2"]
    assert roadmap.measures[0].topic == "Тақырып"


def test_empty_file():
    with pytest.raises(InputError, match="empty") as info:
        parse_document("  \n\n", source="x.txt")
    assert info.value.line == 1


def test_not_this_format():
    with pytest.raises(InputError, match="not a roadmap document"):
        parse_document("hello\nworld\n")


def test_measure_without_title_names_its_line():
    text = HEAD + row(1) + row(2, title="")
    with pytest.raises(InputError, match="E2 has no title") as info:
        parse_document(text, source="doc.txt")
    assert info.value.line == text.splitlines().index("\t2") + 2


def test_unknown_deadline_names_its_line():
    text = HEAD + row(1, deadline="Тоқсан сайын")
    with pytest.raises(InputError) as info:
        parse_document(text)
    assert info.value.line == text.splitlines().index("\tТоқсан сайын") + 1
    assert info.value.field == "deadline"


def test_missing_cell_before_next_number():
    broken = "\t1\n\tАтауы\n\t2026 ж.\n\tБұйрық\n\n"  # executors and units missing
    with pytest.raises(InputError, match="E1 has only"):
        parse_document(HEAD + broken + row(2))


def test_duplicate_number():
    with pytest.raises(InputError, match="E1 appears twice"):
        parse_document(HEAD + row(1) + row(1))


def test_first_row_cannot_inherit():
    with pytest.raises(InputError, match="no row above"):
        parse_document(HEAD + row(1, deadline=""))


def test_missing_period_in_title():
    with pytest.raises(InputError, match="roadmap title"):
        parse_document(HEAD.replace("2025-2032 ", "") + row(1))
