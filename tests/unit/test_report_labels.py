"""The report's words exist in kk, ru and en alike."""

from flows.reports.labels import LANGS, _all


def test_every_language_has_every_label():
    table = _all()
    keys = set(table["en"])
    for lang in LANGS:
        assert set(table[lang]) == keys, lang
        assert all(isinstance(v, str) and v for v in table[lang].values()), lang
