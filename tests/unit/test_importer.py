"""The importer against the board's document: every measure, every deadline phrasing."""

from collections import Counter

import pytest

from models.core.errors import InputError
from models.core.importer import parse_deadline, parse_document, split_people
from models.core.roadmap import CompletionKind, RecurrenceKind

H = (2025, 2032)


@pytest.fixture(scope="module")
def roadmap(shipped_document):
    return parse_document(shipped_document.read_text(encoding="utf-8"), source="roadmap.txt")


def test_counts_per_aspect(roadmap):
    assert Counter(m.aspect.value for m in roadmap.measures) == {"E": 16, "S": 16, "G": 17}
    assert [m.id for m in roadmap.measures][:3] == ["E1", "E2", "E3"]
    assert roadmap.measures[-1].id == "G17"
    assert (roadmap.horizon_start, roadmap.horizon_end) == H


EXPECTED_RECURRENCE = {
    **dict.fromkeys(["E1", "E2", "E3", "E5", "E12", "E14", "S2", "S3", "S4", "S13", "G2", "G7", "G10", "G14", "G17"],
                    ("annual", 2025, 2032)),
    "E9": ("annual", 2026, 2032), "S16": ("annual", 2027, 2032),
    **dict.fromkeys(["E4", "E6", "E8", "S5", "S8", "G4", "G8", "G9"], ("once", 2025, 2025)),
    **dict.fromkeys(["E7", "E11", "E13", "S1", "S9", "S11", "S14", "G11", "G13"], ("once", 2026, 2026)),
    **dict.fromkeys(["E10", "E16", "S6", "S12"], ("once", 2027, 2027)),
    "G15": ("once", 2028, 2028), "E15": ("once", 2032, 2032),
    **dict.fromkeys(["S7", "S15", "G1", "G3", "G5", "G6", "G12", "G16"], ("by", 2025, 2032)),
    "S10": ("as_needed", None, None),
}


def test_every_measure_recurrence(roadmap):
    got = {m.id: (m.recurrence.kind.value, m.recurrence.start_year, m.recurrence.end_year)
           for m in roadmap.measures}
    assert got == EXPECTED_RECURRENCE


def test_merged_cells_inherit_with_warning(roadmap):
    g5, g6 = roadmap.by_id()["G5"], roadmap.by_id()["G6"]
    assert g6.deadline_text == g5.deadline_text == "2032 ж. дейін"
    assert g6.completion_form == g5.completion_form
    assert any("G6" in w and "G5" in w for w in roadmap.warnings)


def test_external_dependencies(roadmap):
    external = {m.id for m in roadmap.measures if m.external_dependency}
    assert external == {"G1", "G3", "G5"}
    g1 = roadmap.by_id()["G1"]
    assert g1.executors == () and g1.external_party == "Самұрық-Қазына"


def test_targets(roadmap):
    targets = {m.id: m.target for m in roadmap.measures if m.target}
    assert set(targets) == {"G1", "G5", "G6"}
    assert (targets["G1"].value, targets["G1"].unit, targets["G1"].year) == (50.0, "%", 2032)
    assert targets["G5"].value == targets["G6"].value == 35.0
    assert targets["G5"].metric != targets["G6"].metric
    assert targets["G1"].direction == "at_least"


def test_executors_and_units_split(roadmap):
    e2 = roadmap.by_id()["E2"]
    assert e2.executors == ("Бас әкімшілік директор", "Бас техникалық директор - ЖДБ бас директоры",
                            "СФ бас директоры", "АТД бас директоры", "ТЖД сатып алу жөніндегі директоры")
    assert "Техникалық дирекция" in e2.units
    assert roadmap.by_id()["E3"].executors[3] == "Бас техникалық директор - ЖДБ бас директоры"


def test_completion_forms(roadmap):
    kinds = {m.id: m.completion_kind for m in roadmap.measures}
    assert kinds["E6"] is CompletionKind.ORDER
    assert kinds["E2"] is CompletionKind.ANNUAL_REPORT
    assert kinds["G8"] is CompletionKind.CERTIFICATE
    assert kinds["S6"] is CompletionKind.BOARD_DECISION
    assert kinds["E11"] is CompletionKind.MANAGEMENT_DECISION
    assert kinds["E15"] is CompletionKind.CONTRACT
    assert kinds["E9"] is CompletionKind.PROTOCOL


def test_titles_are_whole(roadmap):
    e10 = roadmap.by_id()["E10"]
    assert e10.title.endswith("өзектендіру және жария ету.")
    assert "S аспектісі" not in roadmap.by_id()["E16"].units[-1]
    assert all(m.title and m.topic for m in roadmap.measures)


@pytest.mark.parametrize("text, expected", [
    ("Жыл сайын", ("annual", 2025, 2032)),
    ("жыл сайын", ("annual", 2025, 2032)),
    ("Жыл сайынғы негізде", ("annual", 2025, 2032)),
    ("2026 жылдан бастап", ("annual", 2026, 2032)),
    ("2025 ж.бастап", ("annual", 2025, 2032)),
    ("2025 жылдан бастап, үнемі", ("annual", 2025, 2032)),
    ("2027 ж. бастап жыл сайын", ("annual", 2027, 2032)),
    ("2025 ж.", ("once", 2025, 2025)),
    ("2026ж.", ("once", 2026, 2026)),
    ("2026 год", ("once", 2026, 2026)),
    ("2032 ж. ішінде", ("once", 2032, 2032)),
    ("2025 жыл", ("once", 2025, 2025)),
    ("2032 ж. дейін", ("by", 2025, 2032)),
    (" 2032 жылғы дейін", ("by", 2025, 2032)),
    ("Қажетіне қарай", ("as_needed", None, None)),
])
def test_deadline_phrasings(text, expected):
    r = parse_deadline(text, H)
    assert (r.kind.value, r.start_year, r.end_year) == expected


@pytest.mark.parametrize("text", ["Тоқсан сайын", "soon", "2040 ж.", "2026-2027"])
def test_unknown_deadline_is_an_error_naming_the_line(text):
    with pytest.raises(InputError) as info:
        parse_deadline(text, H, source="doc.txt", line=42)
    assert info.value.line == 42 and info.value.file == "doc.txt"


def test_split_people_normalises_dashes_not_hyphens():
    text = "Бас техникалық директор -ЖДБ бас директоры,\nМемлекеттік органдармен өзара іс-қимыл департаменті."
    assert split_people(text) == (
        "Бас техникалық директор - ЖДБ бас директоры", "Мемлекеттік органдармен өзара іс-қимыл департаменті")


def test_recurrence_kinds_cover_the_document(roadmap):
    assert {m.recurrence.kind for m in roadmap.measures} == set(RecurrenceKind)
