"""Reads the board's roadmap document (a table flattened to text) into measures.

The format, as DESIGN.md describes it: each table cell starts on a line beginning with a tab
and may run over several lines; one table per aspect, headed "X аспектісі"; a single-cell row
is a topic heading; merged cells leave later rows empty. Nothing here knows the 49 rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from models.core.errors import InputError
from models.core.roadmap import Aspect, Measure, Recurrence, RecurrenceKind, Roadmap, Target

_ASPECT_RE = re.compile(r"^\s*([ESGЕС])\s+аспектісі\b", re.IGNORECASE)
_TITLE_RE = re.compile(r"жол картасы", re.IGNORECASE)
_HORIZON_RE = re.compile(r"(20\d{2})\s*[-–—]\s*(20\d{2})")
_NUMBER_RE = re.compile(r"^(\d{1,3})\s*\.?$")
_CYRILLIC_LOOKALIKES = {"Е": "E", "С": "S", "е": "E", "с": "S"}
_COLUMNS = {  # column → keyword of its header (Kazakh, Russian)
    "number": r"№|реті|номер",
    "title": r"атауы|наименование",
    "deadline": r"мерзім|срок",
    "form": r"нысан|форма",
    "executors": r"орындаушы|исполнитель",
    "units": r"бөлімше|подразделение",
}
_EXTERNAL_RE = re.compile(r"шешімдерге байланысты|зависит от решени|depends on decisions", re.IGNORECASE)
_PARTY_RE = re.compile(r"[\"«]([^\"»]+)[\"»]\s*АҚ")


@dataclass
class _Cell:
    line: int
    text: str


# --- cells -----------------------------------------------------------------------------


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _tokenise(lines: list[str]) -> tuple[list[tuple[str, int, object]], list[str]]:
    """Split lines into a stream of ("aspect", line, letter), ("title", line, text) and
    ("cell", line, text) events; return it with the preamble lines before the first table."""
    events: list[tuple[str, int, object]] = []
    preamble: list[str] = []
    cell: _Cell | None = None
    for index, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        aspect = None if line.startswith("\t") else _ASPECT_RE.match(line)
        if aspect:
            if cell:
                events.append(("cell", cell.line, cell.text))
                cell = None
            letter = _CYRILLIC_LOOKALIKES.get(aspect.group(1), aspect.group(1)).upper()
            events.append(("aspect", index, letter))
        elif not line.startswith("\t") and _is_table_title(lines, index):
            if cell:
                events.append(("cell", cell.line, cell.text))
                cell = None
            events.append(("title", index, _clean(line)))
        elif line.startswith("\t"):
            if cell:
                events.append(("cell", cell.line, cell.text))
            cell = _Cell(index, line[1:])
        elif cell is not None:
            if line.strip(" .\t"):  # a line of only dots is a stray of the extraction
                cell.text += "\n" + line
        elif not any(kind == "aspect" for kind, _, _ in events) and line.strip():
            preamble.append(_clean(line))
    if cell:
        events.append(("cell", cell.line, cell.text))
    return events, preamble


def _is_table_title(lines: list[str], index: int) -> bool:
    """A roadmap title line is one naming the roadmap and followed by an aspect heading."""
    if not _TITLE_RE.search(lines[index - 1]):
        return False
    for following in lines[index:index + 4]:
        if following.strip():
            return bool(_ASPECT_RE.match(following)) and not following.startswith("\t")
    return False


# --- the document ------------------------------------------------------------------------


def parse_document(text: str, *, source: str = "<document>") -> Roadmap:
    """Parse the roadmap document's text into a Roadmap; InputError names the bad line."""
    if not text.strip():
        raise InputError("the document is empty", file=source, line=1)
    lines = text.splitlines()
    events, preamble = _tokenise(lines)
    if not any(kind == "aspect" for kind, _, _ in events):
        raise InputError(
            "not a roadmap document: no table heading such as 'E аспектісі' was found",
            file=source, line=1,
        )
    title, horizon = _find_title(events, source)
    parser = _TableParser(source, horizon)
    for kind, line, value in events:
        parser.feed(kind, line, value)
    measures = parser.finish()
    if not measures:
        raise InputError("no measures found under the aspect headings", file=source, line=1)
    return Roadmap(
        title=title,
        horizon_start=horizon[0],
        horizon_end=horizon[1],
        measures=tuple(measures),
        preamble=" ".join(preamble),
        warnings=tuple(parser.warnings),
    )


def _find_title(events: list[tuple[str, int, object]], source: str) -> tuple[str, tuple[int, int]]:
    for kind, line, value in events:
        if kind == "title":
            found = _HORIZON_RE.search(str(value))
            if found:
                start, end = int(found.group(1)), int(found.group(2))
                if end < start:
                    raise InputError("the roadmap's period ends before it starts",
                                     file=source, line=line, value=found.group(0))
                return str(value).lstrip("0123456789. "), (start, end)
    raise InputError(
        "no roadmap title with its period (e.g. '... 2025-2032 жылдарға арналған жол картасы') "
        "before the first table", file=source, line=1,
    )


class _TableParser:
    """Consumes cell events table by table and builds measures row by row."""

    def __init__(self, source: str, horizon: tuple[int, int]) -> None:
        self.source = source
        self.horizon = horizon
        self.aspect: Aspect | None = None
        self.columns: list[str] | None = None
        self.header: list[_Cell] = []
        self.topic = ""
        self.row: list[_Cell] = []
        self.measures: list[Measure] = []
        self.warnings: list[str] = []

    def feed(self, kind: str, line: int, value: object) -> None:
        if kind == "aspect":
            self._close_row()
            self.aspect = Aspect(str(value))
            self.columns, self.header, self.topic = None, [], ""
        elif kind == "cell" and self.aspect is not None:
            self._cell(_Cell(line, str(value)))

    def finish(self) -> list[Measure]:
        self._close_row()
        return self.measures

    def _cell(self, cell: _Cell) -> None:
        if self.columns is None:
            self._header_cell(cell)
        elif self.row:
            if len(self.row) < len(self.columns) and _NUMBER_RE.match(cell.text.strip()):
                self._error(cell.line, f"measure {self._row_id()} has only "
                            f"{len(self.row)} of {len(self.columns)} cells before the next number")
            self.row.append(cell)
            if len(self.row) == len(self.columns):
                self._close_row()
        elif _NUMBER_RE.match(cell.text.strip()):
            self.row = [cell]
        elif _clean(cell.text):
            self.topic = _clean(cell.text).rstrip(" .")

    def _header_cell(self, cell: _Cell) -> None:
        if not self.header and not re.search(_COLUMNS["number"], cell.text):
            self._error(cell.line, "expected the table's header row (starting with '№ реті') "
                        f"after the {self.aspect} heading", value=_clean(cell.text)[:60])
        self.header.append(cell)
        if len(self.header) < len(_COLUMNS):
            return
        columns: list[str] = []
        for head in self.header:
            name = next((c for c, kw in _COLUMNS.items()
                         if c not in columns and re.search(kw, head.text, re.IGNORECASE)), None)
            if name is None:
                self._error(head.line, "unknown column heading", value=_clean(head.text))
            columns.append(name)
        self.columns = columns

    def _close_row(self) -> None:
        if not self.row:
            return
        row, self.row = self.row, []
        assert self.columns is not None
        if len(row) < len(self.columns):
            self._error(row[0].line, f"measure {self._row_id(row)} ends after {len(row)} of "
                        f"{len(self.columns)} cells")
        cells = dict(zip(self.columns, row, strict=True))
        self.measures.append(self._measure(cells))

    def _measure(self, cells: dict[str, _Cell]) -> Measure:
        assert self.aspect is not None
        match = _NUMBER_RE.match(cells["number"].text.strip())
        assert match is not None  # a row starts at a number cell (see _cell)
        number = int(match.group(1))
        mid = f"{self.aspect.value}{number}"
        line = cells["number"].line
        if any(m.id == mid for m in self.measures):
            self._error(line, f"measure {mid} appears twice")
        title = _clean(cells["title"].text)
        if not title:
            self._error(cells["title"].line, f"measure {mid} has no title", field="title")
        previous = self.measures[-1] if self.measures and self.measures[-1].aspect == self.aspect else None
        deadline = _clean(cells["deadline"].text).rstrip("*").strip()
        form = _clean(cells["form"].text).rstrip(". ")
        if not deadline or not form:
            if previous is None:
                missing = "deadline" if not deadline else "completion form"
                self._error(cells["number"].line, f"measure {mid} has no {missing} and no row "
                            "above to inherit it from", field=missing)
            inherited = [n for n, v in (("deadline", deadline), ("completion form", form)) if not v]
            self.warnings.append(f"{self.source}:{line}: {mid} has an empty "
                                 f"{' and '.join(inherited)} (merged cell); inherits {previous.id}'s")
        if deadline:
            recurrence = parse_deadline(deadline, self.horizon, source=self.source, line=cells["deadline"].line)
        else:
            assert previous is not None  # an empty cell with no row above raised just above
            recurrence, deadline = previous.recurrence, previous.deadline_text
        if not form:
            assert previous is not None
            form = previous.completion_form
        executors_text = _clean(cells["executors"].text)
        external = bool(_EXTERNAL_RE.search(executors_text))
        party = _PARTY_RE.search(executors_text) if external else None
        executors = () if external else split_people(cells["executors"].text)
        units = split_people(cells["units"].text)
        if not external and not executors and not units:
            self.warnings.append(f"{self.source}:{line}: {mid} names no executor and no unit")
        return Measure(
            id=mid, aspect=self.aspect, number=number, topic=self.topic, title=title,
            deadline_text=deadline, recurrence=recurrence, completion_form=form,
            executors=executors, units=units, external_dependency=external,
            external_party=party.group(1).strip() if party else None,
            target=extract_target(title, form, recurrence), line=line,
        )

    def _row_id(self, row: list[_Cell] | None = None) -> str:
        match = _NUMBER_RE.match((row or self.row)[0].text.strip())
        assert match is not None  # a row starts at a number cell (see _cell)
        return f"{self.aspect}{match.group(1)}"

    def _error(self, line: int, message: str, *, field: str | None = None, value: object = None) -> NoReturn:
        raise InputError(message, file=self.source, line=line, field=field, value=value)


# --- cell contents -----------------------------------------------------------------------


def split_people(text: str) -> tuple[str, ...]:
    """An executors/units cell → its items: comma-separated, whitespace collapsed."""
    joined = _clean(text)
    joined = re.sub(r"\s+-\s*|\s*-\s+", " - ", joined)  # "директор -ЖДБ" == "директор - ЖДБ"
    items = (item.strip().rstrip(". ").strip() for item in joined.split(","))
    return tuple(item for item in items if item)


_YEAR = r"(?P<year>20\d{2})"
_SUFFIX = r"(?:\s*(?:ж\.?|жыл|жылы|жылғы|жылға|жылдан|жылдың|год|года|г\.?))?"
_DEADLINES: tuple[tuple[re.Pattern[str], RecurrenceKind, str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind, role)
    for pattern, kind, role in (
        (r"қажетіне қарай|қажет болған жағдайда|по мере необходимости|as needed", RecurrenceKind.AS_NEEDED, ""),
        (r"жыл сайын(?:ғы негізде)?|ежегодно|annually", RecurrenceKind.ANNUAL, ""),
        (rf"{_YEAR}{_SUFFIX}\s*бастап(?:\s*,?\s*(?:үнемі|жыл сайын|тұрақты))?", RecurrenceKind.ANNUAL, "start"),
        (rf"(?:с|from)\s+{_YEAR}{_SUFFIX}(?:\s*,?\s*(?:ежегодно|постоянно|annually))?",
         RecurrenceKind.ANNUAL, "start"),
        (rf"{_YEAR}{_SUFFIX}\s*дейін", RecurrenceKind.BY, "end"),
        (rf"(?:до|by|until)\s+{_YEAR}{_SUFFIX}", RecurrenceKind.BY, "end"),
        (rf"{_YEAR}{_SUFFIX}(?:\s*(?:ішінде|в течение|during))?", RecurrenceKind.ONCE, "both"),
    )
)


def parse_deadline(text: str, horizon: tuple[int, int], *, source: str = "<text>",
                   line: int | None = None) -> Recurrence:
    """Map a deadline phrase to its recurrence; an unknown phrase is an error, never a guess."""
    phrase = _clean(text).rstrip("*").strip().rstrip(".").strip()
    start, end = horizon
    for pattern, kind, role in _DEADLINES:
        match = pattern.fullmatch(phrase) or pattern.fullmatch(phrase + ".")
        if not match:
            continue
        if kind is RecurrenceKind.AS_NEEDED:
            return Recurrence(kind, None, None)
        year = int(match.group("year")) if role else None
        if year is not None and not start <= year <= end:
            raise InputError(f"year {year} is outside the roadmap's period {start}-{end}",
                             file=source, line=line, field="deadline", value=text.strip())
        if role == "start":
            return Recurrence(kind, year, end)
        if role == "end":
            return Recurrence(kind, start, year)
        if role == "both":
            return Recurrence(kind, year, year)
        return Recurrence(kind, start, end)
    raise InputError(
        "unknown deadline phrasing; expected e.g. 'Жыл сайын', '2026 жылдан бастап', '2025 ж.', "
        "'2032 ж. дейін' or 'Қажетіне қарай'",
        file=source, line=line, field="deadline", value=text.strip(),
    )


_PERCENT_RE = re.compile(r"(\d+(?:[.,]\d+)?)\s*%")
_SUBJECTS = (  # what a share is a share of; generic phrases of corporate governance
    (r"тәуелсіз директор", "independent_directors_share"),
    (r"әйелдер", "women_share"),
)
_BODIES = (
    (r"директорлар ке[нң]ес", "board_of_directors"),
    (r"басқарма", "management_board"),
)


def extract_target(title: str, form: str, recurrence: Recurrence) -> Target | None:
    """A numeric target stated in the title or the completion form (e.g. '50%', '35%-дан кем емес')."""
    for text in (title, form):
        match = _PERCENT_RE.search(text)
        if not match:
            continue
        lowered = title.casefold()
        subject = next((slug for pat, slug in _SUBJECTS if re.search(pat, lowered)), "share")
        body = next((slug for pat, slug in _BODIES if re.search(pat, lowered)), None)
        year = re.search(r"(20\d{2})\s*жыл", text)
        direction = "at_most" if re.search(r"аспау|кем емес емес|не более|at most", text.casefold()) else "at_least"
        return Target(
            metric=f"{subject}_{body}" if body else subject,
            value=float(match.group(1).replace(",", ".")),
            unit="%",
            year=int(year.group(1)) if year else recurrence.end_year,
            direction=direction,
        )
    return None
