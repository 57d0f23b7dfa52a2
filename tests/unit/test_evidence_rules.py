"""Evidence must fit the measure's completion form; errors name what is missing."""

import datetime as dt

import pytest

from models.core.errors import InputError
from models.core.evidence_rules import Evidence, check, describe
from models.core.roadmap import CompletionKind as K

TODAY = dt.date(2025, 11, 1)
NUMBERED = [K.ORDER, K.PROTOCOL, K.BOARD_DECISION, K.MANAGEMENT_DECISION, K.CONTRACT]
DOCUMENTED = [K.REPORT, K.ANNUAL_REPORT, K.DOCUMENT, K.SOFTWARE]


def fails(kind, evidence, **kw) -> InputError:
    with pytest.raises(InputError) as info:
        check(kind, evidence, measure="E6", today=TODAY, **kw)
    return info.value


def test_an_order_needs_its_number_and_date():
    error = fails(K.ORDER, Evidence())
    assert str(error).startswith("field '--evidence-ref'")
    assert "E6 is completed by an order: give --evidence-ref (the order's number) and " \
           "--evidence-date (the order's date)" in str(error)
    assert "--evidence-date" in str(fails(K.ORDER, Evidence(ref="12-п")))
    assert "--evidence-ref" in str(fails(K.ORDER, Evidence(date=TODAY)))
    check(K.ORDER, Evidence(ref="12-п", date=TODAY), measure="E6", today=TODAY)


@pytest.mark.parametrize("kind", NUMBERED)
def test_numbered_documents_need_number_and_date(kind):
    error = fails(kind, Evidence(files=("scan.pdf",)))
    assert "--evidence-ref" in str(error) and "--evidence-date" in str(error)
    check(kind, Evidence(ref="7", date=TODAY - dt.timedelta(days=3)), measure="E6", today=TODAY)


def test_a_certificate_needs_its_number_and_validity():
    error = fails(K.CERTIFICATE, Evidence(ref="ISO-37001-1"))
    assert error.field == "--valid-until" and "certificate" in str(error)
    check(K.CERTIFICATE, Evidence(ref="C-1", valid_until=dt.date(2028, 1, 1)), measure="G8", today=TODAY)


def test_an_expired_certificate_is_refused():
    error = fails(K.CERTIFICATE, Evidence(ref="C-1", valid_until=dt.date(2025, 1, 1)))
    assert error.field == "--valid-until" and "expired" in str(error)


@pytest.mark.parametrize("kind", DOCUMENTED)
def test_reports_and_documents_need_a_file_or_a_link(kind):
    error = fails(kind, Evidence(ref="123", date=TODAY, note="done"))
    assert error.field == "--file" and "--file or --url" in str(error)
    check(kind, Evidence(files=("report.pdf",)), measure="E2", today=TODAY)
    check(kind, Evidence(urls=("https://kt.kz/ar-2025.pdf",)), measure="E2", today=TODAY)


def test_links_must_be_http():
    error = fails(K.REPORT, Evidence(urls=("file:///etc/passwd",)))
    assert error.field == "--url"


def test_a_document_dated_in_the_future_is_refused():
    error = fails(K.ORDER, Evidence(ref="1", date=TODAY + dt.timedelta(days=1)))
    assert error.field == "--evidence-date"


def test_a_progress_check_in_needs_an_update_not_the_final_order():
    error = fails(K.ORDER, Evidence(), progress=True)
    assert "progress" in str(error)
    check(K.ORDER, Evidence(note="30 % of staff trained"), measure="S7", today=TODAY, progress=True)


@pytest.mark.parametrize("kind", list(K))
def test_every_kind_is_described(kind):
    assert "--" in describe(kind)


@pytest.mark.parametrize("ref, shown", [("45-п", "№ 45-п"), ("ISO 37001 №77", "ISO 37001 №77"),
                                        ("№ 12", "№ 12"), ("No. 12", "No. 12"), (" 7 ", "№ 7"),
                                        ("АР-17", "№ АР-17"), ("#5", "#5")])
def test_a_reference_gets_a_number_sign_unless_it_has_one(ref, shown):
    from models.core.evidence_rules import numbered

    assert numbered(ref) == shown
