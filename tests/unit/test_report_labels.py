"""The report's words exist in kk, ru and en alike, and so do the names it gives to what the
shipped roadmap names only in Kazakh or by an id: metrics, external parties, the document."""

import pytest

from config import SHIPPED_ROADMAP
from flows.reports.labels import LANGS, _all, catalogue, document, metric_name, party_name, words
from models.core.normalised import load_roadmap


@pytest.fixture(scope="module")
def shipped():
    return load_roadmap(SHIPPED_ROADMAP).roadmap


def test_every_language_has_every_label():
    table = _all()
    keys = set().union(*(set(table[lang]) for lang in LANGS))
    assert set(table) == set(LANGS)
    for lang in LANGS:
        assert set(table[lang]) == keys, (lang, sorted(keys - set(table[lang])))
        assert all(isinstance(v, str) and v for v in table[lang].values()), lang


def test_every_catalogue_name_is_in_every_language():
    for section in ("documents", "parties"):
        for key, names in catalogue()[section].items():
            for entry in (names.values() if section == "documents" else [names]):
                assert set(entry) == set(LANGS) and all(entry[lang] for lang in LANGS), (section, key)


def test_every_metric_of_the_shipped_roadmap_has_a_name_in_each_language(shipped):
    metrics = {m.target.metric for m in shipped.measures if m.target}
    assert len(metrics) == 3
    for lang in LANGS:
        for metric in metrics:
            name = words(lang).get(f"metric_{metric}")
            assert name and "_" not in name, (lang, metric)


def test_an_unknown_metric_reads_as_words():
    assert metric_name("waste_generated_t", words("en")) == "waste generated t"


def test_external_parties_have_russian_and_english_names(shipped):
    parties = {m.external_party for m in shipped.measures if m.external_dependency}
    assert parties == {"Самұрық-Қазына"}
    assert [party_name("Самұрық-Қазына", lang) for lang in LANGS] == ["Самұрық-Қазына", "Самрук-Казына",
                                                                       "Samruk-Kazyna"]


def test_the_shipped_roadmap_names_its_board_decision(shipped):
    known = document(shipped.title)
    assert known["decision"]["kk"] == shipped.preamble  # the document's own words
    assert "No. 20" in known["decision"]["en"] and "11 December 2024" in known["decision"]["en"]
    assert "№ 20" in known["decision"]["ru"] and "11 декабря 2024" in known["decision"]["ru"]
