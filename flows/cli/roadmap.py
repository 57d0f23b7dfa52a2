"""CLI: init, roadmap import/normalise, measures, occurrences, upcoming, open.

Commands import what they run inside themselves, on purpose: `esgtrack --help` and each
command load only their own libraries (matplotlib and reportlab for reports, Prefect for
flows, apprise for delivery), not every library of every command."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from config import SHIPPED_ROADMAP
from config.settings import get_settings
from flows.cli.app import (
    AsOfOpt,
    FormatOpt,
    LangOpt,
    OrgOpt,
    app,
    as_of_date,
    db,
    now,
    org_or_default,
    out_file,
    parse_date,
    roadmap_app,
    title_in,
)
from flows.cli.output import Format, Lang, console, emit, err_console
from flows.usecases import occurrences as events
from flows.usecases import roadmap as roadmaps
from models.core.errors import InputError
from models.core.normalised import (
    Catalogue,
    LoadedRoadmap,
    catalogue_from_i18n,
    catalogue_from_yaml,
    dump_yaml,
    load_roadmap,
    roadmap_to_dict,
)
from models.core.schedule import OccurrenceStatus, end_of_day, local_date
from models.store.measures import ImportReport, measure_from_row
from models.store.occurrences import OccurrenceFilter
from models.store.tables import MeasureRow, OccurrenceRow


@app.command()
def init() -> None:
    """Create the data directory and bring the database schema to the newest version."""
    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = db()
    console.print(f"database ready: {engine.url.render_as_string(hide_password=True)}")
    console.print(f"data directory: {settings.home}")


def _catalogue() -> Catalogue | None:
    return catalogue_from_yaml(SHIPPED_ROADMAP) if SHIPPED_ROADMAP.exists() else None


def import_path(path: Path, org: str, by: str = "esg-office") -> tuple[LoadedRoadmap, ImportReport]:
    """The import use case: read, then write measures + occurrences + edition + its ledger
    entry in one commit."""
    loaded = load_roadmap(path, _catalogue())
    return loaded, roadmaps.import_edition(db(), org=org, loaded=loaded, actor=by, now=now())


@roadmap_app.command("import")
def roadmap_import(
    path: Annotated[Path, typer.Argument(help="The roadmap document (.txt) or its normalised YAML.")],
    org: OrgOpt = None,
    fmt: FormatOpt = Format.table,
    by: Annotated[str, typer.Option("--by", help="Who imports it (recorded in the ledger).")] = "esg-office",
) -> None:
    """Import (or re-import) a roadmap: measures and their occurrences, updated in place."""
    org = org_or_default(org)
    loaded, report = import_path(path, org, by)
    if fmt is not Format.table:
        emit([report.as_dict()], fmt=fmt, columns=list(report.as_dict()), json_data=report.as_dict())
        return
    for warning in report.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {warning}")
    m = loaded.roadmap.measures
    counts = {a: sum(1 for x in m if x.aspect.value == a) for a in "ESG"}
    console.print(f"[bold]{org}[/bold]: {len(m)} measures (E {counts['E']}, S {counts['S']}, "
                  f"G {counts['G']}) from {loaded.source_name}, edition #{report.edition_id}")
    _print_changes(report)


def _print_changes(report: ImportReport) -> None:
    lines = []
    if report.added:
        lines.append(f"added: {', '.join(report.added)}")
    if report.removed:
        lines.append(f"removed: {', '.join(report.removed)}")
    lines += [f"renumbered: {old} → {new}" for old, new in report.renumbered]
    lines += [f"deadline changed: {i}: {old!r} → {new!r}" for i, old, new in report.deadlines]
    if report.retitled:
        lines.append(f"retitled: {', '.join(report.retitled)}")
    lines += report.other_changes
    if not lines:
        lines.append("no changes")
    for line in lines:
        console.print(f"  {line}")
    occ = report.occurrences
    console.print(f"  occurrences: {occ.get('added', 0)} added, {occ.get('moved', 0)} moved, "
                  f"{occ.get('withdrawn', 0)} withdrawn, {occ.get('unchanged', 0)} unchanged")


@roadmap_app.command("normalise")
def roadmap_normalise(
    path: Annotated[Path, typer.Argument(help="The roadmap document (.txt).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the YAML.", callback=out_file)],
    i18n: Annotated[Path | None, typer.Option(help="YAML with ru/en titles, topics and roles "
                                                   "(default: those of the shipped roadmap).")] = None,
) -> None:
    """Convert a roadmap document to the normalised YAML (with ru/en titles and role ids)."""
    catalogue = catalogue_from_i18n(i18n, path) if i18n else (_catalogue() or Catalogue())
    loaded = load_roadmap(path, catalogue)
    data = roadmap_to_dict(loaded.roadmap, loaded.roles, source_name=loaded.source_name,
                           sha256=loaded.sha256)
    header = (f"# Normalised from {loaded.source_name} by `esgtrack roadmap normalise`.\n"
              "# Import with: esgtrack roadmap import THIS_FILE [--org CODE]\n")
    out.write_text(header + dump_yaml(data), encoding="utf-8")
    for warning in loaded.roadmap.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {warning}")
    console.print(f"wrote {out}: {len(loaded.roadmap.measures)} measures, {len(loaded.roles)} roles")


@roadmap_app.command("translate")
def roadmap_translate(
    measure: Annotated[str | None, typer.Argument(help="The measure's id, e.g. E17 (none: list the untranslated).")]
        = None,
    ru: Annotated[str | None, typer.Option("--ru", help="The Russian title.")] = None,
    en: Annotated[str | None, typer.Option("--en", help="The English title.")] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", help="Titles for many measures: YAML `measures: {E17: {title_ru: …, title_en: …}}` "
                       "(the form of config/roadmaps/*.i18n.yaml).")] = None,
    org: OrgOpt = None,
) -> None:
    """Give measures their Russian and English titles. A measure a revised edition adds without
    them is shown to Russian and English readers as its Kazakh title marked "[not translated]";
    without arguments, list those measures."""
    code = org_or_default(org)
    if measure is None and file is None:
        if ru is not None or en is not None:
            raise InputError("--ru and --en need the measure's id", field="MEASURE")
        missing = roadmaps.untranslated_measures(db(), org=code)
        for row in missing:
            console.print(f"{row.code}: {row.title}", highlight=False, soft_wrap=True)
        err_console.print(f"{code}: {len(missing)} measure(s) without a Russian or English title"
                          + (": `esgtrack roadmap translate ID --ru … --en …`" if missing else ""))
        return
    if file is not None and (measure is not None or ru is not None or en is not None):
        raise InputError("give either --file or a measure with --ru/--en", field="--file")
    titles = _titles_file(file) if file is not None else {str(measure): (ru, en)}
    if file is None and ru is None and en is None:
        raise InputError("give --ru, --en or both", field="--ru")
    done = roadmaps.translate_titles(db(), org=code, titles=titles)
    console.print(f"{code}: translated {', '.join(row.code for row in done)}")


def _titles_file(path: Path) -> dict[str, tuple[str | None, str | None]]:
    import yaml

    from models.core.yamltext import SafeLoader

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read translations: {exc}", file=str(path)) from None
    entries = data.get("measures") if isinstance(data, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise InputError("expected `measures:` with an entry per measure id", file=str(path), field="measures")
    titles: dict[str, tuple[str | None, str | None]] = {}
    for code, entry in entries.items():
        if not isinstance(entry, dict) or not ({"title_ru", "title_en"} & set(entry)):
            raise InputError("expected title_ru and/or title_en", file=str(path), field=f"measures.{code}")
        for key in ("title_ru", "title_en"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                raise InputError("expected a text", file=str(path), field=f"measures.{code}.{key}", value=entry[key])
        titles[str(code)] = (entry.get("title_ru"), entry.get("title_en"))
    return titles


@app.command("measures")
def measures_cmd(
    org: OrgOpt = None,
    aspect: Annotated[str | None, typer.Option(help="Only this aspect: E, S or G.")] = None,
    fmt: FormatOpt = Format.table,
    lang: LangOpt = Lang.kk,
) -> None:
    """List the roadmap's measures (JSON: one object per measure: id, aspect, title, deadline,
    completion form, executors, units — the README's "Reading it" section)."""
    from flows.cli import words


    if aspect and aspect.upper() not in {"E", "S", "G"}:
        raise InputError("aspect must be E, S or G", field="--aspect", value=aspect)
    found = [(code, row) for code, row in roadmaps.measure_list(db(), org=org)
             if not aspect or row.aspect == aspect.upper()]
    if fmt is Format.json:
        emit([], fmt=fmt, columns=[], json_data=[{"org": code, **measure_from_row(row).contract_dict()}
                                                  for code, row in found])
        return
    language = lang.value
    w = words.words(language)
    names = roadmaps.role_names(db(), orgs=sorted({code for code, _ in found}))
    rows = [{"org": code, "id": row.code, "title": title_in(row, lang),
             "deadline_text": words.deadline_in(row, language), "kind": w[f"rec_{row.kind}"],
             "years": _years({"start_year": row.start_year, "end_year": row.end_year}),
             "completion_form": words.form_in(row, language),
             "executors": words.responsible(row, names.get(code, {}), language),
             "units": words.role_names_in(row.unit_roles, names.get(code, {}), language),
             "target": words.target_in(row.target, language)}
            for code, row in found]
    columns = ["org", "id", "title", "deadline_text", "kind", "years", "completion_form",
               "executors", "units", "target"]
    emit(rows, fmt=fmt, columns=columns if fmt is Format.csv else
         ["id", "title", "deadline_text", "kind", "years", "completion_form", "executors", "target"],
         title=w["title_measures"], headers=words.headers(language, columns),
         empty="no measures: run `esgtrack roadmap import PATH` first")


def _years(rec: dict[str, Any]) -> str:
    if rec["start_year"] is None:
        return ""
    return str(rec["start_year"]) if rec["start_year"] == rec["end_year"] else f"{rec['start_year']}–{rec['end_year']}"


def occurrence_dict(occ: OccurrenceRow, measure: MeasureRow, lang: Lang, as_of: dt.date | None = None
                    ) -> dict[str, Any]:
    due = local_date(occ.due_at)
    data = {
        "org": occ.org, "occurrence_id": occ.id, "measure": measure.code,
        "aspect": measure.aspect, "period": occ.period, "kind": occ.kind,
        "status": occ.status, "due": due.isoformat(), "title": title_in(measure, lang),
        "completion_form": measure.completion_form, "executor_roles": measure.executor_roles,
        "unit_roles": measure.unit_roles, "late": occ.late,
        "completed_at": occ.completed_at.isoformat() if occ.completed_at else None,
    }
    if as_of is not None:  # days left, or days overdue: never a negative "days left"
        left = (due - as_of).days
        data["days_left"], data["days_overdue"] = (left, None) if left >= 0 else (None, -left)
    return data


OCC_COLUMNS = ["org", "measure", "period", "kind", "status", "due", "title", "executor_roles"]


@app.command("occurrences")
def occurrences_cmd(
    org: OrgOpt = None,
    period: Annotated[int | None, typer.Option(help="Only this year.")] = None,
    status: Annotated[str | None, typer.Option(help="open, done, waived or withdrawn.")] = None,
    aspect: Annotated[str | None, typer.Option(help="E, S or G.")] = None,
    executor: Annotated[str | None, typer.Option(help="A role id, or part of an executor or unit name.")] = None,
    measure: Annotated[str | None, typer.Option(help="A measure id, e.g. E4.")] = None,
    fmt: FormatOpt = Format.table,
    lang: LangOpt = Lang.kk,
) -> None:
    """List dated obligations, filtered by period, status, aspect, executor or measure."""
    if status and status not in set(OccurrenceStatus):
        raise InputError("status must be open, done, waived or withdrawn", field="--status", value=status)
    if aspect and aspect.upper() not in {"E", "S", "G"}:
        raise InputError("aspect must be E, S or G", field="--aspect", value=aspect)
    from flows.cli import words

    where = OccurrenceFilter(period=period, status=status, aspect=aspect, executor=executor, measure=measure)
    found = roadmaps.occurrence_list(db(), org=org, where=where)
    rows = [occurrence_dict(o, m, lang) for o, m in found]
    columns = [*OCC_COLUMNS, "occurrence_id", "completion_form", "late"] if fmt is Format.csv else OCC_COLUMNS
    emit(_in_language(rows, found, lang.value, fmt), fmt=fmt, columns=columns,
         title=words.words(lang.value)["title_occurrences"], headers=words.headers(lang.value, columns),
         empty=words.words(lang.value)["empty"])


def _in_language(rows: list[dict[str, Any]], found: list[tuple[OccurrenceRow, MeasureRow]], lang: str,
                 fmt: Format) -> list[dict[str, Any]]:
    """Occurrence rows for people (tables, CSV): status, kind, completion form and who is
    responsible in the language; JSON keeps the contract's ids."""
    if fmt is Format.json:
        return rows
    from flows.cli import words

    names = roadmaps.role_names(db(), orgs=sorted({o.org for o, _ in found}))
    return [{**row, "status": words.status_word(row["status"], lang), "kind": words.kind_word(row["kind"], lang),
             "completion_form": words.form_in(m, lang),
             "executor_roles": words.responsible(m, names.get(o.org, {}), lang)}
            for row, (o, m) in zip(rows, found, strict=True)]


@app.command("upcoming")
def upcoming_cmd(
    days: Annotated[int, typer.Option(min=0, help="How many days ahead.")] = 30,
    as_of: AsOfOpt = None,
    org: OrgOpt = None,
    overdue: Annotated[bool, typer.Option(help="Also list open items already past due.")] = True,
    fmt: FormatOpt = Format.table,
    lang: LangOpt = Lang.kk,
) -> None:
    """What falls due in the next N days (and what is overdue), as of a date."""
    from flows.cli import words

    day = as_of_date(as_of)
    start = end_of_day(day - dt.timedelta(days=1))
    where = OccurrenceFilter(status=OccurrenceStatus.OPEN, due_from=None if overdue else start,
                             due_to=end_of_day(day + dt.timedelta(days=days)))
    found = roadmaps.occurrence_list(db(), org=org, where=where)
    rows = [occurrence_dict(o, m, lang, day) for o, m in found]
    columns = ["org", "measure", "period", "kind", "due", "days_left", "days_overdue", "title", "executor_roles"]
    w = words.words(lang.value)
    emit(_in_language(rows, found, lang.value, fmt), fmt=fmt, columns=columns,
         headers=words.headers(lang.value, columns),
         title=w["title_upcoming"].format(end=day + dt.timedelta(days=days), day=day),
         empty=w["empty_upcoming"].format(days=days, day=day))


@app.command("open")
def open_cmd(
    measure: Annotated[str, typer.Argument(help="An as-needed measure's id, e.g. S10.")],
    due: Annotated[str, typer.Option("--due", help="Due date, YYYY-MM-DD.")],
    org: OrgOpt = None,
    by: Annotated[str, typer.Option("--by", help="Who opens it (recorded in the ledger).")] = "esg-office",
    reason: Annotated[str, typer.Option(help="Why it is needed now.")] = "",
) -> None:
    """Open an occurrence of an as-needed measure, due on a date."""
    org = org_or_default(org)
    day = parse_date(due, "--due")
    row = events.open_occurrence_as_needed(db(), org=org, code=measure, due=day, actor=by, reason=reason,
                                           now=now()).occurrence
    console.print(f"opened {measure.upper()} {row.period} (occurrence {row.id}), due {day}")
