"""The people directory: the shipped example, and errors that name file, line and field."""

from __future__ import annotations

import pytest

from config import EXAMPLE_DIRECTORY, SHIPPED_ROADMAP
from models.core.directory import check_directory, load_directory, parse_directory
from models.core.errors import InputError

GOOD = """
people:
  - {id: a, name: "Айгерім", email: a@example.kz, language: kk, deputy: b}
  - {id: b, name: "Борис", email: b@example.kz, language: ru}
  - {id: c, name: "Carol", teams: "workflows://host.example.kz/wf1/sig1/", language: en}
roles:
  esg_office: {holder: a, superior: boss}
  boss: {holder: b}
  vacant: {holder: null, superior: boss}
"""


def test_parse_a_small_directory():
    d = parse_directory(GOOD, source="d.yaml")
    assert d.holder("esg_office").name == "Айгерім"
    assert d.superior_of("esg_office") == "boss" and d.superior_of("boss") is None
    assert d.holder("vacant") is None and d.holder("no_such_role") is None
    assert d.person("c").teams.startswith("workflows://") and d.person("c").language == "en"
    assert d.person("a").deputy == "b" and d.roles_of("b") == ["boss"]
    with pytest.raises(KeyError):
        d.person("zz")


def test_check_lists_unheld_roles_and_people_without_channel():
    d = parse_directory(GOOD.replace("email: b@example.kz, ", ""), source="d.yaml")
    result = check_directory(d, required_roles={"esg_office", "vacant", "unknown_role"},
                             smtp_configured=False)
    assert result.unheld_roles == ("unknown_role", "vacant")
    assert result.no_channel == ("b",) and result.email_without_smtp == ("a",)
    assert not result.ok


def test_the_example_covers_every_role_of_the_shipped_roadmap():
    from models.core.normalised import load_roadmap

    directory = load_directory(EXAMPLE_DIRECTORY)
    loaded = load_roadmap(SHIPPED_ROADMAP)
    used = {r for m in loaded.roadmap.measures for r in (*m.executor_roles, *m.unit_roles)}
    used |= {"esg_office", "chief_administrative_officer", "chairman_of_management_board"}
    assert check_directory(directory, required_roles=used, smtp_configured=True).ok
    assert {p.language for p in directory.people.values()} == {"kk", "ru", "en"}
    assert all(p.email.endswith("@example.kz") for p in directory.people.values())
    assert all(not p.teams and not p.apprise for p in directory.people.values())


@pytest.mark.parametrize(("change", "field", "line"), [
    (("language: ru", "language: de"), "people[1].language", 4),
    (("{id: b,", "{id: a,"), "people[1].id", 4),
    (('name: "Борис", ', ""), "people[1].name", 4),
    (("email: b@example.kz", "email: not-an-address"), "people[1].email", 4),
    (("deputy: b", "deputy: zz"), "people[0].deputy", 3),
    (("language: en", "language: en, emial: x"), "people[2].emial", 5),
    (("{holder: b}", "{holder: ghost}"), "roles.boss.holder", 8),
    (("{holder: b}", "{holder: b, superior: esg_office}"), "roles.esg_office.superior", 7),  # a loop
    (("{holder: a, superior: boss}", "{holder: a, superior: nowhere}"), "roles.esg_office.superior", 7),
    (("{holder: b}", "{holder: b, boss: x}"), "roles.boss.boss", 8),
    (('teams: "workflows://', 'teams: "slack://'), "people[2].teams", 5),
])
def test_errors_name_the_field_and_line(change, field, line):
    old, new = change
    assert old in GOOD
    with pytest.raises(InputError) as err:
        parse_directory(GOOD.replace(old, new, 1), source="d.yaml")
    assert err.value.file == "d.yaml" and err.value.field == field
    assert err.value.line == line, err.value.describe()
    assert field in str(err.value)


def test_secrets_in_urls_are_never_echoed():
    bad = GOOD.replace('teams: "workflows://host.example.kz/wf1/sig1/"', 'teams: "http://secret-token-123"')
    with pytest.raises(InputError) as err:
        parse_directory(bad, source="d.yaml")
    assert "secret-token-123" not in str(err.value)


@pytest.mark.parametrize(("text", "field"), [
    ("people: [\n  - {id: a", None),
    ("- just a list", "<root>"),
    ("people: []\nroles: {x: {}}", "people"),
    ("people: [{id: a, name: A}]\nroles: []", "roles"),
    ("people: [{id: a, name: A}]\nroles: {x: {}}\nextra: 1", "extra"),
])
def test_malformed_files(text, field):
    with pytest.raises(InputError) as err:
        parse_directory(text, source="bad.yaml")
    assert err.value.field == field
    assert err.value.exit_code == 2


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as err:
        load_directory(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(err.value)


def test_fallback_orders_per_person_and_by_default():
    d = parse_directory(GOOD, source="d.yaml")
    assert d.order_of(d.person("a")) == ("channels", "deputy", "journal")  # the built-in default
    text = "fallback: [channels, journal]\n" + GOOD.replace(
        "deputy: b}", "deputy: b, fallback: [teams, email, deputy]}")
    d = parse_directory(text, source="d.yaml")
    assert d.order_of(d.person("a")) == ("teams", "email", "deputy")
    assert d.order_of(d.person("b")) == ("channels", "journal")


@pytest.mark.parametrize(("text", "field", "value"), [
    (GOOD.replace("deputy: b}", "deputy: b, fallback: [teams, sms]}"), "people[0].fallback[1]", "sms"),
    (GOOD.replace("deputy: b}", "deputy: b, fallback: [email, email]}"), "people[0].fallback[1]", "email"),
    (GOOD.replace("language: ru}", "language: ru, fallback: [email, deputy]}"), "people[1].fallback[1]", "deputy"),
    (GOOD.replace("deputy: b}", "deputy: b, fallback: []}"), "people[0].fallback", []),
    ("fallback: [channels, pager]\n" + GOOD, "fallback[1]", "pager"),
])
def test_a_bad_fallback_order_names_the_file_field_and_value(text, field, value):
    with pytest.raises(InputError) as err:
        parse_directory(text, source="d.yaml")
    assert err.value.file == "d.yaml" and err.value.field == field and err.value.value == value
    assert err.value.line is not None and field in str(err.value)


def test_journal_only_people_fail_the_check_only_where_real_channels_exist():
    d = parse_directory(GOOD, source="d.yaml")  # c has Teams: a real channel exists
    unset = check_directory(d, required_roles=(), smtp_configured=False)
    assert unset.real_channels and unset.journal_only == ("a", "b") and not unset.ok
    assert check_directory(d, required_roles=(), smtp_configured=True).ok
    demo = parse_directory(GOOD.replace('teams: "workflows://host.example.kz/wf1/sig1/", ', "email: c@example.kz, "),
                           source="d.yaml")
    result = check_directory(demo, required_roles=(), smtp_configured=False)
    assert not result.real_channels and result.journal_only == ("a", "b", "c") and result.ok


def test_a_lists_name_can_be_given_per_language():
    from models.core.directory import parse_directory

    text = ("people:\n  - {id: md, name: Басқарушы директорлар, language: kk,\n"
            "     names: {ru: Управляющие директора, en: Managing directors}}\nroles: {md: {holder: md}}\n")
    md = parse_directory(text, source="d.yaml").people["md"]
    assert (md.name_in("kk"), md.name_in("ru"), md.name_in("en")) == \
        ("Басқарушы директорлар", "Управляющие директора", "Managing directors")
    for bad, field in (("names: [x]", "people[0].names"), ("names: {de: X}", "people[0].names.de"),
                       ("names: {ru: ''}", "people[0].names.ru")):
        with pytest.raises(InputError) as caught:
            parse_directory(f"people:\n  - {{id: md, name: M, {bad}}}\nroles: {{md: {{holder: md}}}}\n",
                            source="d.yaml")
        assert caught.value.field == field and caught.value.file == "d.yaml"
