"""The shipped normalised YAML: generated from the document, with ru/en titles and roles."""

import pytest

from models.core.errors import InputError
from models.core.normalised import (
    catalogue_from_yaml,
    dump_yaml,
    load_roadmap,
    roadmap_from_yaml,
    roadmap_to_dict,
)


@pytest.fixture(scope="module")
def from_yaml(shipped_roadmap):
    return load_roadmap(shipped_roadmap)


def test_yaml_matches_the_document(from_yaml, shipped_document, shipped_roadmap):
    from_doc = load_roadmap(shipped_document, catalogue_from_yaml(shipped_roadmap))
    assert [m.contract_dict() for m in from_doc.roadmap.measures] == \
           [m.contract_dict() for m in from_yaml.roadmap.measures]


def test_every_measure_has_ru_en_titles_and_topics(from_yaml):
    for m in from_yaml.roadmap.measures:
        assert m.title_ru and m.title_en and m.topic_ru and m.topic_en, m.id


def test_every_role_id_is_declared(from_yaml):
    declared = {r.id for r in from_yaml.roles}
    used = {r for m in from_yaml.roadmap.measures for r in (*m.executor_roles, *m.unit_roles)}
    assert used <= declared
    assert {"esg_office", "chief_administrative_officer", "chairman_of_management_board"} <= declared


def test_round_trip(from_yaml):
    data = roadmap_to_dict(from_yaml.roadmap, from_yaml.roles, source_name="x", sha256="0")
    again, roles = roadmap_from_yaml(dump_yaml(data), source="x.yaml")
    assert [m.contract_dict() for m in again.measures] == [m.contract_dict() for m in from_yaml.roadmap.measures]
    assert roles == from_yaml.roles


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.pop("measures"), "measures"),
    (lambda d: d["measures"][3].pop("title"), "measures[3] (E4).title"),
    (lambda d: d["measures"][0]["recurrence"].update(kind="weekly"), "measures[0] (E1).recurrence.kind"),
    (lambda d: d["measures"][1].update(aspect="X"), "measures[1] (E2).aspect"),
    (lambda d: d["measures"][2].update(due={"month": 13}), "measures[2] (E3).due"),
    (lambda d: d["horizon"].pop("end"), "horizon.end"),
])
def test_bad_yaml_names_the_field(from_yaml, mutate, field):
    data = roadmap_to_dict(from_yaml.roadmap, from_yaml.roles, source_name="x", sha256="0")
    mutate(data)
    with pytest.raises(InputError) as info:
        roadmap_from_yaml(dump_yaml(data), source="bad.yaml")
    assert info.value.field == field and info.value.file == "bad.yaml"


def test_yaml_syntax_error_names_the_line():
    with pytest.raises(InputError) as info:
        roadmap_from_yaml("format: esgtrack-roadmap/1\nmeasures: [\n  - a: b\n", source="s.yaml")
    assert info.value.line is not None
