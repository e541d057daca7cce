"""The planners' pages: Mine tomter, the full edit form, withdrawal and its undo, enquiry
status, and the saved comparisons.

- ``/mine``: the plots of the planner's kommuner (an admin: all), unpublished and withdrawn
  ones included, filtered, sorted, newest change first; ``?imported=1`` lists what imports
  created or changed (``plot_version.source``), newest import first.
- ``/plots/<id>/edit``: every editable field as a server-rendered form (CSRF), each field's
  error beside it in the page's language; the save is the registry's optimistic update, so a
  colleague's save in between is shown, never overwritten unseen. A planner of another kommune
  reads the form, disabled (the region shares one register; writes are per kommune).
- ``/plots/<id>/withdraw`` asks for confirmation and a reason; ``/plots/<id>/restore`` undoes.
- ``/enquiries/<id>/status`` sets an enquiry's status (enquiries belong to the whole region:
  every planner handles them); ``/comparisons`` lists the saved comparisons.

Every page answers the anonymous with the login page. Words come from the catalogue's
``planner`` section (landreg/i18n/text.yaml).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import Select, func, or_, select
from werkzeug.wrappers import Response

from landreg import i18n
from landreg.auth.users import Principal
from landreg.errors import InvalidInput, StaleVersion
from landreg.models import AVAILABILITY, ENQUIRY_STATUS, Municipality, Plot, PlotVersion
from landreg.registry.fields import (
    EDITABLE_FIELDS,
    NUMBER_RANGES,
    TEXT_LIMITS,
    clean_attributes,
)
from landreg.registry.search import fetch_one
from landreg.web.auth import current_principal, safe_next
from landreg.web.db import session
from landreg.web.text import current_lang

bp = Blueprint("planner", __name__)

#: At most this many rows on Mine tomter (the filter narrows it down).
MAX_ROWS = 500
#: Column key → what it sorts by; ``-key`` sorts descending.
SORTS = {"name": Plot.name, "kommune": Municipality.name, "area": Plot.area_daa,
         "status": Plot.availability, "published": Plot.published,
         "changed": Plot.updated_at, "by": Plot.updated_by}

#: The edit form: sections (catalogue keys) and their fields, every editable field but the
#: kommune (it follows the outline, changed on the map).
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("planner_sec_basics", ("name", "external_ref", "arealformal", "availability", "published")),
    ("planner_sec_plan", ("plan_id", "plan_name", "plan_status", "plan_legal_status",
                          "max_bya_pct", "max_height_m")),
    ("planner_sec_readiness", ("road_access", "water_sewer", "power_capacity_mw")),
    ("planner_sec_market", ("ownership", "price_nok_m2", "contact", "description")),
    ("planner_sec_internal", ("internal_notes",)),
)
FORM_FIELDS: tuple[str, ...] = tuple(f for _, fields in SECTIONS for f in fields)
assert set(FORM_FIELDS) == set(EDITABLE_FIELDS) - {"kommunenummer"}  # noqa: S101 - a wiring check
LONG_TEXT = ("description", "internal_notes")
TRISTATE = ("road_access", "water_sewer")
CHOICES = ("availability", "plan_status", "plan_legal_status", "ownership")


def _login() -> Response:
    return redirect(url_for("auth.login_form", next=request.path))


def _lang_args() -> dict[str, str]:
    lang = current_lang()
    return {"lang": lang} if lang != "nb" else {}


def _t(key: str, **params: Any) -> str:
    return i18n.t(key, current_lang(), **params)


# --- Mine tomter ----------------------------------------------------------------------------


def _kommuner(who: Principal) -> list[tuple[str, str]]:
    """(number, name) of the kommuner ``who`` keeps (an admin: all seven)."""
    stmt = select(Municipality.kommunenummer, Municipality.name).order_by(
        Municipality.kommunenummer)
    if not who.is_admin:
        stmt = stmt.where(Municipality.kommunenummer.in_(who.kommuner))
    return [(k, n) for k, n in session().execute(stmt).all()]


def _mine_query(who: Principal, args: dict[str, str]) -> tuple[Select, str]:
    """The plots of Mine tomter for ``args`` (status, published, q, imported, sort), and the
    sort key used. Unknown values are a 400 naming the parameter."""
    imported = (select(PlotVersion.plot_id, func.max(PlotVersion.changed_at).label("at"),
                       func.max(PlotVersion.version).label("version"))
                .where(PlotVersion.source == "import").group_by(PlotVersion.plot_id)
                .subquery())
    importer = (select(PlotVersion.changed_by).where(
        PlotVersion.plot_id == imported.c.plot_id, PlotVersion.version == imported.c.version)
        .scalar_subquery())
    stmt = (select(Plot.id, Plot.name, Plot.kommunenummer, Municipality.name.label("kommune"),
                   Plot.area_daa, Plot.availability, Plot.published, Plot.updated_at,
                   Plot.updated_by, Plot.version, Plot.withdrawn_reason,
                   imported.c.at.label("imported_at"), importer.label("imported_by"))
            .join(Municipality, Municipality.kommunenummer == Plot.kommunenummer)
            .outerjoin(imported, imported.c.plot_id == Plot.id))
    if not who.is_admin:
        stmt = stmt.where(Plot.kommunenummer.in_(who.kommuner))
    status = args.get("status") or ""
    if status:
        if status not in AVAILABILITY:
            raise InvalidInput(f"Unknown status {status!r}; use one of {', '.join(AVAILABILITY)}",
                               field="status", value=status)
        stmt = stmt.where(Plot.availability == status)
    published = args.get("published") or ""
    if published not in ("", "yes", "no"):
        raise InvalidInput("published must be yes or no", field="published", value=published)
    if published:
        stmt = stmt.where(Plot.published.is_(published == "yes"))
    q = (args.get("q") or "").strip()
    if q:
        if len(q) > 200 or any(ord(ch) < 32 for ch in q):
            raise InvalidInput("The search text is too long or holds control characters.",
                               field="q")
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(*[col.ilike(like, escape="\\") for col in (
            Plot.name, Plot.external_ref, Plot.plan_id, Plot.plan_name)]))
    is_imported = args.get("imported") == "1"
    if is_imported:
        stmt = stmt.where(imported.c.at.is_not(None))
    default = "-imported" if is_imported else "-changed"
    sort = args.get("sort") or default
    key = sort.lstrip("-")
    column = imported.c.at if key == "imported" else SORTS.get(key)
    if column is None:
        raise InvalidInput(f"Unknown sort {sort!r}; use one of "
                           f"{', '.join([*SORTS, 'imported'])} (a leading - sorts descending)",
                           field="sort", value=sort)
    order = column.desc().nulls_last() if sort.startswith("-") else column.asc().nulls_last()
    return stmt.order_by(order, Plot.id.desc()), sort


@bp.get("/mine")
def mine() -> str | Response:
    """Mine tomter: the planner's plots, unpublished and withdrawn ones included."""
    who = current_principal()
    if who is None:
        return _login()
    args = request.args.to_dict()
    stmt, sort = _mine_query(who, args)
    total = session().execute(select(func.count()).select_from(stmt.order_by(None).subquery())
                              ).scalar_one()
    rows = session().execute(stmt.limit(MAX_ROWS)).all()
    kommuner = _kommuner(who)
    return render_template(
        "mine.html", rows=rows, total=total, sort=sort, args=args, kommuner=kommuner,
        imported=args.get("imported") == "1", statuses=i18n.labels("availability", current_lang()),
        kommune_names=", ".join(n for _, n in kommuner) if not who.is_admin
        else _t("planner_all_kommuner"), sort_url=_sort_url, who=who,
        sort_options=_sort_options(args.get("imported") == "1"))


def _sort_options(imported: bool) -> list[tuple[str, str]]:
    """The sort choices of the filter form (the column headers sort too)."""
    lang = current_lang()
    options = [("-imported", _t("planner_sort_imported"))] if imported else []
    return [*options, ("-changed", _t("planner_sort_changed")),
            ("name", i18n.field_label("name", lang)),
            ("kommune", i18n.field_label("kommunenavn", lang)),
            ("-area", _t("planner_sort_area")), ("status", i18n.field_label("availability", lang)),
            ("published", i18n.field_label("published", lang))]


def _sort_url(key: str, current: str) -> str:
    """The Mine tomter link that sorts by ``key``: ascending first, descending on a second
    click; the page's filters are kept."""
    from landreg.web.params import url_with_query

    order = f"-{key}" if current == key else key
    items = [(k, v) for k, v in request.args.items(multi=True) if k != "sort"]
    return url_with_query("planner.mine", [*items, ("sort", order)])


# --- the full edit form -----------------------------------------------------------------------


def _form_value(field: str, value: Any) -> str:
    """A stored value as the form shows it (numbers with the page's decimal comma)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)) and field in NUMBER_RANGES:
        text = f"{float(value):.6f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if current_lang() == "nb" else text
    return str(value)


def _number(text: str) -> float | None:
    try:
        return float(Decimal(text.strip().replace(",", ".").replace(" ", "")
                             .replace("\u00a0", "")))
    except (InvalidOperation, ValueError):
        return None


def _field_error(field: str, raw: str) -> str:
    """What is wrong with ``raw`` for ``field``, in the page's language."""
    lang = current_lang()
    if field in NUMBER_RANGES:
        low, high = NUMBER_RANGES[field]
        if _number(raw) is None:
            return _t("planner_err_number")
        return _t("planner_err_range", low=i18n.fmt_number(low, 0 if low == int(low) else 1, lang),
                  high=i18n.fmt_number(high, 0, lang))
    if field == "name" and not raw.strip():
        return _t("planner_err_required")
    if field in TEXT_LIMITS or field in ("contact", "description", "internal_notes"):
        return _t("planner_err_too_long", max=i18n.fmt_number(TEXT_LIMITS.get(field, 4000), 0,
                                                              lang))
    if field in CHOICES or field in TRISTATE or field == "arealformal":
        return _t("planner_err_choice")
    return _t("planner_err_invalid")


def _read_form(form: Any) -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """The submitted fields: (raw text per field, cleaned value per field, error per field).
    Each field is checked on its own, so every mistake is shown at once."""
    raw: dict[str, str] = {}
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in FORM_FIELDS:
        raw[field] = ("true" if form.get(field) else "false") if field == "published" \
            else str(form.get(field, ""))
        try:
            clean[field] = clean_attributes({field: raw[field]}, creating=False)[field]
        except InvalidInput:
            errors[field] = _field_error(field, raw[field])
    return raw, clean, errors


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float, Decimal)) and isinstance(b, (int, float, Decimal)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return abs(float(a) - float(b)) < 1e-9
    return a == b


def _edit_page(plot_id: int, *, raw: dict[str, str] | None = None,
               errors: dict[str, str] | None = None, message: str | None = None,
               conflict: dict[str, Any] | None = None, version: int | None = None,
               status: int = 200) -> tuple[str, int]:
    from landreg.registry.codes import arealformal_codes

    who = current_principal()
    plot = fetch_one(session(), plot_id, public=False)
    p = plot["properties"]
    lang = current_lang()
    values = raw or {f: _form_value(f, p.get(f)) for f in FORM_FIELDS}
    codes = [(c.code, c.nb if lang == "nb" else c.en)
             for c in sorted(arealformal_codes().values(), key=lambda c: c.code)]
    choices = {f: i18n.labels(f, lang) for f in CHOICES}
    if p["availability"] != "trukket":  # withdrawal has its own page, with a reason
        choices["availability"].pop("trukket", None)
    return render_template(
        "plot_edit.html", plot=plot, p=p, values=values, errors=errors or {},
        message=message, conflict=conflict, version=version or p["version"],
        may_edit=who.may_edit(p["kommunenummer"]), sections=SECTIONS, codes=codes,
        choices=choices, long_text=LONG_TEXT, tristate=TRISTATE, ranges=NUMBER_RANGES,
        limits=TEXT_LIMITS, done=request.args.get("done")), status


@bp.get("/plots/<int:plot_id>/edit")
def edit_form(plot_id: int) -> tuple[str, int] | Response:
    """Every editable field of a plot (planners; others of the region read it disabled)."""
    if current_principal() is None:
        return _login()
    return _edit_page(plot_id)


@bp.post("/plots/<int:plot_id>/edit")
def edit_save(plot_id: int) -> tuple[str, int] | Response:
    """Save the form: only changed fields, based on the version the form was opened at."""
    from landreg.registry.plots import update_plot

    who = current_principal()
    if who is None:
        return _login()
    current = fetch_one(session(), plot_id, public=False)["properties"]
    who.require_edit(current["kommunenummer"])
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        raise InvalidInput("The form has no version: reload the page.", field="version") from None
    raw, clean, errors = _read_form(request.form)
    if errors:
        return _edit_page(plot_id, raw=raw, errors=errors, version=version, status=400,
                          message=_t("planner_has_errors"))
    changed = {f: raw[f] for f in FORM_FIELDS if not _same(clean[f], current.get(f))}
    if not changed:
        return redirect(url_for("planner.edit_form", plot_id=plot_id, done="unchanged",
                                **_lang_args()))
    try:
        update_plot(session(), plot_id, changed, expected_version=version, user=who.username)
    except StaleVersion:
        session().rollback()
        return _conflict(plot_id, raw, changed)
    except InvalidInput as exc:
        session().rollback()
        field = exc.field if exc.field in FORM_FIELDS else None
        errs = {field: _field_error(field, raw[field])} if field else {}
        return _edit_page(plot_id, raw=raw, errors=errs, version=version, status=400,
                          message=_t("planner_has_errors") if field
                          else _t("planner_save_failed", message=exc.message))
    # the trigger set the new version: read the column (the session's Plot object is older)
    saved = session().execute(select(Plot.version).where(Plot.id == plot_id)).scalar_one()
    session().commit()
    return redirect(url_for("planner.edit_form", plot_id=plot_id, done="saved", v=saved,
                            **_lang_args()))


def _conflict(plot_id: int, raw: dict[str, str], changed: dict[str, str]) -> tuple[str, int]:
    """Someone saved in between: the form keeps what this planner typed, names who saved and
    shows both values of each field this planner changed. The form now carries the stored
    version, so saving again is a deliberate choice."""
    lang = current_lang()
    stored = fetch_one(session(), plot_id, public=False)["properties"]
    rows = [{"label": i18n.field_label(f, lang), "field": f,
             "yours": _display(f, clean_attributes({f: raw[f]}, creating=False)[f], lang),
             "theirs": _display(f, stored.get(f), lang)} for f in changed]
    return _edit_page(plot_id, raw=raw, version=stored["version"], status=409,
                      message=_t("planner_conflict", who=stored["updated_by"],
                                 version=stored["version"]),
                      conflict={"rows": rows})


def _display(field: str, value: Any, lang: str) -> str:
    """A value as a person reads it (codes with their names, Ja/Nei, Norwegian numbers)."""
    if field == "arealformal" and value is not None:
        from landreg.registry.codes import all_arealformal_codes

        code = all_arealformal_codes().get(int(value))
        name = (code.nb if lang == "nb" else code.en) if code else ""
        return f"{value} {name}".strip()
    if field == "area_daa" and value is not None:
        return i18n.fmt_daa(float(value), lang)
    if isinstance(value, Decimal):
        value = float(value)
    if field == "kommunenummer" and value:
        name = session().get(Municipality, value)
        return f"{value} {name.name}" if name else str(value)
    return i18n.value_label(field, value, lang)


# --- withdrawal and undo --------------------------------------------------------------------


def _withdraw_page(plot_id: int, *, error: str | None = None, reason: str = "",
                   status: int = 200) -> tuple[str, int]:
    p = fetch_one(session(), plot_id, public=False)["properties"]
    return render_template("plot_withdraw.html", p=p, error=error, reason=reason,
                           next=safe_next(request.values.get("next"))
                           if request.values.get("next") else None), status


def _writer(plot_id: int) -> Principal | None:
    """The logged-in planner, refused (403) unless they keep the plot's kommune."""
    who = current_principal()
    if who is not None:
        who.require_edit(fetch_one(session(), plot_id, public=False)["properties"]
                         ["kommunenummer"])
    return who


@bp.get("/plots/<int:plot_id>/withdraw")
def withdraw_form(plot_id: int) -> tuple[str, int] | Response:
    """Confirm a withdrawal and give its reason."""
    if _writer(plot_id) is None:
        return _login()
    return _withdraw_page(plot_id)


@bp.post("/plots/<int:plot_id>/withdraw")
def withdraw(plot_id: int) -> tuple[str, int] | Response:
    """Withdraw a plot (never delete it), with the reason; then back, with "Angre" shown."""
    from landreg.registry.plots import withdraw_plot

    who = _writer(plot_id)
    if who is None:
        return _login()
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        return _withdraw_page(plot_id, error=_t("planner_withdraw_reason_required"), status=400)
    if len(reason) > 500:
        return _withdraw_page(plot_id, error=_t("planner_err_too_long", max="500"),
                              reason=reason, status=400)
    p = fetch_one(session(), plot_id, public=False)["properties"]
    if p["availability"] == "trukket":
        return _withdraw_page(plot_id, error=_t("planner_already_withdrawn"), status=400)
    try:
        version = int(request.form.get("version", ""))
        withdraw_plot(session(), plot_id, expected_version=version, user=who.username,
                      reason=reason)
    except (ValueError, StaleVersion):
        session().rollback()
        return _withdraw_page(plot_id, reason=reason, status=409,
                              error=_t("planner_stale_action", version=p["version"]))
    session().commit()
    return redirect(_back(plot_id, "withdrawn"))


@bp.post("/plots/<int:plot_id>/restore")
def restore(plot_id: int) -> Response:
    """Undo a withdrawal: the status and published flag from before come back."""
    from landreg.registry.plots import restore_plot

    who = _writer(plot_id)
    if who is None:
        return _login()
    p = fetch_one(session(), plot_id, public=False)["properties"]
    if p["availability"] != "trukket":
        return redirect(_back(plot_id, "restored"))  # already undone (a second click)
    restore_plot(session(), plot_id, expected_version=p["version"], user=who.username)
    session().commit()
    return redirect(_back(plot_id, "restored"))


def _back(plot_id: int, done: str) -> str:
    """Where a withdrawal or undo returns: the page it came from (``next``, a path on this
    site), else the plot's edit form; ``done`` and the plot say what happened."""
    from landreg.web.params import url_with_query

    target = request.form.get("next")
    if target and safe_next(target) == target and urlsplit(target).path == url_for("planner.mine"):
        kept = [(k, v) for k, v in parse_qsl(urlsplit(target).query) if k not in ("done", "plot")]
        return url_with_query("planner.mine", [*kept, ("done", done), ("plot", str(plot_id))])
    return url_with_query("planner.edit_form", [("done", done), *_lang_args().items()],
                          plot_id=plot_id)


@bp.app_template_global()
def done_message(done: str | None, plot_id: Any) -> dict[str, Any] | None:
    """The message after a withdrawal or undo on Mine tomter / the edit form, with the plot."""
    if done not in ("withdrawn", "restored"):
        return None
    try:
        p = fetch_one(session(), int(plot_id), public=False)["properties"]
    except (ValueError, TypeError, InvalidInput):
        return None
    lang = current_lang()
    if done == "withdrawn":
        text = _t("planner_withdrawn_done", name=p["name"])
    else:
        text = _t("planner_restored_done", name=p["name"],
                  status=i18n.value_label("availability", p["availability"], lang),
                  published=i18n.value_label("published", p["published"], lang))
    return {"text": text, "p": p}


# --- history, as a person reads it ------------------------------------------------------------

#: History keys shown with a label of their own.
_HISTORY_LABEL = {"area_daa": "area", "geometry": None}


@bp.app_template_global()
def change_text(field: str, change: dict[str, Any]) -> dict[str, str] | None:
    """One line of a version's changes as a person reads it: ``{"label": "Areal",
    "from": "71,2 daa", "to": "71,2 daa"}``; None for a key the catalogue does not name
    (never show a field name)."""
    lang = current_lang()
    if field == "geometry":
        return {"label": i18n.field_label("geometry", lang), "from": "",
                "to": _t("planner_hist_outline_changed")}
    try:
        label = i18n.t("area", lang) if field == "area_daa" else i18n.field_label(field, lang)
    except KeyError:
        return None
    return {"label": label, "from": _display(field, change.get("from"), lang),
            "to": _display(field, change.get("to"), lang)}


# --- enquiries and saved comparisons -----------------------------------------------------------


@bp.app_template_global()
def enquiry_status_label(status: str) -> str:
    """An enquiry status as a person reads it (ny → "Ny", under_arbeid → "Under arbeid")."""
    return _t(f"planner_enq_{status}") if status in ENQUIRY_STATUS else status


@bp.app_template_global()
def enquiry_statuses() -> tuple[str, ...]:
    """The states of an enquiry, in order (new, in progress, answered, closed)."""
    return ENQUIRY_STATUS


@bp.app_template_global()
def profile_name(profile: str) -> str:
    """A purpose profile's name in the page's language (its id when unknown)."""
    from landreg.web.suitability import suitability

    found = suitability().profiles.get(profile)
    if found is None:
        return profile
    return found.name_nb if current_lang() == "nb" else found.name_en


@bp.post("/enquiries/<int:enquiry_id>/status")
def enquiry_status(enquiry_id: int) -> Response:
    """Set an enquiry's status from the enquiries page; the planner who sets it handles it."""
    from landreg.forum.enquiries import update_enquiry

    who = current_principal()
    if who is None:
        return _login()
    status = request.form.get("status", "")
    if status not in ENQUIRY_STATUS:
        raise InvalidInput(_t("planner_err_choice"), field="status", value=status[:40])
    update_enquiry(session(), enquiry_id, status=status, handled_by=who.username)
    session().commit()
    from landreg.web.params import url_with_query

    return redirect(url_with_query("forum.enquiries_page",
                                   [("updated", str(enquiry_id)), *_lang_args().items()])
                    + f"#enquiry-{enquiry_id}")


@bp.get("/comparisons")
def comparisons() -> str | Response:
    """The saved comparisons (planners only): name, profile, plots, date, who, a link."""
    from landreg.models import Comparison
    from landreg.web.suitability import suitability

    if current_principal() is None:
        return _login()
    rows = session().execute(select(Comparison).order_by(Comparison.created_at.desc(),
                                                         Comparison.id.desc())).scalars().all()
    ids = {i for c in rows for i in (c.plot_ids or [])}
    names = dict(session().execute(select(Plot.id, Plot.name).where(Plot.id.in_(ids))).all()) \
        if ids else {}
    profiles = {p: profile_name(p) for p in suitability().profiles}
    return render_template("comparisons.html", rows=rows, names=names, profiles=profiles)


__all__ = ["bp"]
