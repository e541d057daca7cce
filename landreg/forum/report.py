"""Printable reports for the planning forum and investors (PDF): a ranking, a comparison, a
one-page factsheet per plot. Each has a title, the date, the profile and weights where they
apply, the table, and a static map with legend, scale bar, north arrow and © Kartverket."""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import geopandas as gpd
import matplotlib
import matplotlib.ticker
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from landreg.i18n import (
    DASH,
    field_label,
    fmt_daa,
    fmt_date,
    fmt_number,
    fmt_quantity,
    t,
    value_label,
)
from landreg.models import Municipality, Plot, ReferenceFeature

matplotlib.use("Agg")  # no display: render to PNG in memory

from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from reportlab.lib import colors  # noqa: E402
from reportlab.lib.pagesizes import A4, landscape  # noqa: E402
from reportlab.lib.styles import getSampleStyleSheet  # noqa: E402
from reportlab.lib.units import cm  # noqa: E402
from reportlab.platypus import (  # noqa: E402
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)


def attribution(lang: str = "nb") -> str:
    """The map data's attribution and the demo note, in ``lang``."""
    return t("forum_attribution", lang)


def _frame(session: Session, model: Any, where: Any = None) -> gpd.GeoDataFrame:
    stmt = select(model, func.ST_AsBinary(model.geom))
    if where is not None:
        stmt = stmt.where(where)
    rows = session.execute(stmt).all()
    return gpd.GeoDataFrame({"obj": [r[0] for r in rows]}, crs=25833,
                            geometry=shapely.from_wkb([bytes(r[1]) for r in rows]))


def static_map(session: Session, plot_ids: list[int], *, labels: list[str] | None = None,
               size: tuple[float, float] = (7.5, 6.0), margin_m: float = 3000,
               lang: str = "nb") -> bytes:
    """A PNG map of the given plots (numbered) with kommuner, main roads, rail, a legend, a
    scale bar, a north arrow and the attribution."""
    plots = _frame(session, Plot, Plot.id.in_(plot_ids))
    order = {pid: i for i, pid in enumerate(plot_ids)}
    plots["n"] = [order[o.id] + 1 for o in plots["obj"]]
    kommuner = _frame(session, Municipality)
    roads = _frame(session, ReferenceFeature, ReferenceFeature.layer == "roads")
    rail = _frame(session, ReferenceFeature, ReferenceFeature.layer == "rail")
    main = roads[[o.properties.get("vegkategori") in ("E", "R") for o in roads["obj"]]]
    fig, ax = plt.subplots(figsize=size, dpi=150)
    minx, miny, maxx, maxy = plots.total_bounds
    pad = max(margin_m, 0.15 * max(maxx - minx, maxy - miny))
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    kommuner.plot(ax=ax, color="#f2efe6", edgecolor="#666", linewidth=0.8, linestyle="--")
    if len(main):
        main.plot(ax=ax, color="#c0392b", linewidth=1.6)
    if len(rail):
        rail.plot(ax=ax, color="#222", linewidth=1.2, linestyle=(0, (4, 2)))
    plots.plot(ax=ax, color="#1a9850", edgecolor="#0b4d2c", linewidth=1.2, alpha=0.8)
    for geom, n in zip(plots.geometry, plots["n"], strict=True):
        p = geom.representative_point()
        ax.annotate(str(n), (p.x, p.y), xytext=(6, 6), textcoords="offset points",
                    fontsize=9, fontweight="bold",
                    bbox={"boxstyle": "circle", "fc": "white", "ec": "#0b4d2c"})
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_yticks([])
    _scale_bar(ax)
    ax.annotate("N", xy=(0.95, 0.93), xytext=(0.95, 0.80), xycoords="axes fraction",
                ha="center", va="center", fontsize=12, fontweight="bold",
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5})
    handles = [Patch(facecolor="#1a9850", edgecolor="#0b4d2c", label=t("forum_legend_plot", lang)),
               Line2D([], [], color="#c0392b", lw=1.6, label=t("forum_legend_main_road", lang)),
               Line2D([], [], color="#222", lw=1.2, ls="--", label=t("rail", lang)),
               Patch(facecolor="#f2efe6", edgecolor="#666", ls="--", label=t("kommune", lang))]
    ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9)
    ax.text(0.99, 0.005, "© Kartverket (N1000) CC BY 4.0", transform=ax.transAxes,
            ha="right", va="bottom", fontsize=6)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _scale_bar(ax: Any) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    target = (x1 - x0) / 4
    length = max(n for n in (100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)
                 if n <= max(target, 100))
    x, y = x0 + 0.05 * (x1 - x0), y0 + 0.22 * (y1 - y0)
    ax.plot([x, x + length], [y, y], color="black", lw=3, solid_capstyle="butt")
    label = f"{length // 1000} km" if length >= 1000 else f"{length} m"
    ax.text(x + length / 2, y + 0.015 * (y1 - y0), label, ha="center", fontsize=7)


def paragraph(value: Any, style: Any) -> Paragraph:
    """A paragraph of plain text. ReportLab reads a Paragraph's text as markup (``<img>``
    embeds a file from the server's disk, a lone ``<`` fails the whole document), so every
    paragraph of this module is made here, with ``<``, ``>`` and ``&`` escaped."""
    return Paragraph(xml_escape(str(value)), style)


def _doc(title: str, story: list, *, wide: bool = False) -> bytes:
    buf = io.BytesIO()
    size = landscape(A4) if wide else A4
    doc = SimpleDocTemplate(buf, pagesize=size, title=title, leftMargin=1.5 * cm,
                            rightMargin=1.5 * cm, topMargin=1.5 * cm, bottomMargin=1.5 * cm)
    doc.build(story)
    return buf.getvalue()


def _table(rows: list[list[Any]], widths: list[float] | None = None) -> Table:
    t = Table([[paragraph(str(c), _styles()["BodyText"]) if isinstance(c, str) and len(c) > 30
                else c for c in r] for r in rows], colWidths=widths, repeatRows=1)
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8), ("FONT", (0, 1), (-1, -1),
                                                          "Helvetica", 8),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3f4e8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return t


def _styles():  # noqa: ANN202
    return getSampleStyleSheet()


def _head(title: str, subtitle: str, lang: str = "nb") -> list:
    s = _styles()
    return [paragraph(title, s["Title"]),
            paragraph(f"{subtitle} — {fmt_date(date.today(), lang)}", s["Normal"]),
            Spacer(1, 0.3 * cm)]


def ranking_pdf(session: Session, profile_name: str, weights_line: str,
                items: list[dict[str, Any]], top: int = 20, *, summary: str = "",
                lang: str = "nb") -> bytes:
    """The ranking of a profile within the selection on screen (``summary`` says which, in
    words): table of the best plots with their rank labels and a map of the top ten."""
    s = _styles()
    shown = items[:top]
    rows = [[t("forum_col_rank", lang), field_label("name", lang), t("kommune", lang),
             t("area", lang), field_label("availability", lang), t("score", lang),
             t("forum_col_note", lang)]]
    for i in shown:
        note = (t("excluded", lang) + ": " + "; ".join(i.get("reasons_text", i["reasons"]))
                if i["excluded"] else "")
        rows.append([paragraph(i["rank_text"], s["BodyText"]),
                     paragraph(i["name"], s["BodyText"]), i["kommunenavn"],
                     fmt_daa(i["area_daa"], lang), value_label("availability",
                                                               i["availability"], lang),
                     fmt_number(i["score"], 1, lang), paragraph(note, s["BodyText"])])
    png = static_map(session, [i["plot_id"] for i in shown[:10]], lang=lang) if shown else None
    story = _head(f"{t('forum_ranking', lang)}: {profile_name}", t("title", lang), lang)
    story += [paragraph(f"{t('forum_selection', lang)}: {summary}", s["Normal"]),
              paragraph(weights_line, s["Normal"]), Spacer(1, 0.3 * cm),
              _table(rows, [3.6 * cm, 4.4 * cm, 2.4 * cm, 1.8 * cm, 2.2 * cm, 1.4 * cm,
                            2.2 * cm])]
    if png:
        story += [PageBreak(), paragraph(t("forum_map_top10", lang), s["Heading2"]),
                  Image(io.BytesIO(png), width=17 * cm, height=13.6 * cm)]
    story += [Spacer(1, 0.3 * cm), paragraph(attribution(lang), s["Italic"])]
    return _doc(f"{t('forum_ranking', lang)} {profile_name}", story)


def comparison_pdf(session: Session, c: dict[str, Any], words: dict[str, Any],
                   lang: str = "nb") -> bytes:
    """A comparison: plots side by side, every criterion, drive minutes, and a map with only
    those plots; ``words`` are the labels the page shows (landreg.web.forum._words)."""
    s = _styles()
    body = s["BodyText"]
    names = [paragraph(f"{n}. {p['name']}", body) for n, p in enumerate(c["plots"], start=1)]
    rows = [["", *names],
            [t("forum_rank_row", lang), *[paragraph(r, body) for r in words["ranks"]]],
            [t("score", lang), *[fmt_number(p["score"], 1, lang) for p in c["plots"]]],
            [t("forum_breaches", lang), *[paragraph(r, body) for r in words["reasons"]]]]
    for row in c["criteria"]:
        name = row["name_nb"] if lang == "nb" else row["name_en"]
        rows.append([paragraph(f"{name} ({fmt_number(row['weight'], 0, lang)} %)", body), *[
            DASH if v["raw"] is None else
            f"{fmt_quantity(v['raw'], row['unit'], lang)} → "
            f"{fmt_number(v['contribution'], 1, lang)} p" for v in row["values"]]])
    for row in c["distances"]:
        name = row["name_nb"] if lang == "nb" else row["name_en"]
        rows.append([paragraph(name, body), *[DASH if v is None else
                                              f"{fmt_number(v, 0, lang)} m"
                                              for v in row["values"]]])
    for row in c.get("drive", []):
        name = t("forum_drive_to", lang, to=row["name_nb"] if lang == "nb" else row["name_en"])
        rows.append([paragraph(name, body), *[DASH if v is None else
                                              f"{fmt_number(v, 0, lang)} min"
                                              for v in row["values"]]])
    for f in c["facts"]:
        rows.append([paragraph(field_label(f["field"], lang), body),
                     *[paragraph(value_label(f["field"], v, lang), body)
                       for v in f["values"]]])
    width = (25 * cm) / (len(names) + 1)
    png = static_map(session, [p["id"] for p in c["plots"]], size=(10, 5.5), lang=lang)
    story = _head(f"{t('forum_comparison', lang)}: {words['profile']}", t("title", lang), lang)
    story += [paragraph(f"{t('forum_selection', lang)}: {words['summary']}", s["Normal"]),
              paragraph(words["weights"], s["Normal"]), Spacer(1, 0.3 * cm),
              _table(rows, [width] * (len(names) + 1))]
    if c.get("settlement_note"):
        story.append(paragraph(t("criteria_settlements_note", lang), s["Italic"]))
    story += [PageBreak(),
              Image(io.BytesIO(png), width=24 * cm, height=13.2 * cm),
              paragraph(attribution(lang), s["Italic"])]
    return _doc(f"{t('forum_comparison', lang)} {words['profile']}", story, wide=True)


def factsheet_pdf(session: Session, plot: dict[str, Any], scores: list[dict[str, Any]],
                  drive: list[dict[str, Any]] | None = None, lang: str = "nb",
                  settlement_note: bool = False) -> bytes:
    """One page for an investor: the plot's facts, drive minutes, its best purposes and a
    map; ``settlement_note``: those purposes weigh criteria resting on settlement points
    (their limitation is stated under the scores)."""
    s = _styles()
    p = plot["properties"]
    minutes = [f"{r['name_nb'] if lang == 'nb' else r['name_en']} "
               f"{fmt_number(r['values'][0], 0, lang)} min"
               for r in drive or [] if r["values"][0] is not None]
    facts = [[t("kommune", lang), f"{p['kommunenavn']} ({p['kommunenummer']})"],
             [t("area", lang), fmt_daa(p["area_daa"], lang)],
             [field_label("arealformal_name", lang),
              f"{p['arealformal_name'] or DASH} ({p['arealformal']})"],
             [field_label("availability", lang), value_label("availability",
                                                            p["availability"], lang)],
             [field_label("byggeklar", lang), value_label("byggeklar", p["byggeklar"], lang)],
             [field_label("power_capacity_mw", lang),
              value_label("power_capacity_mw", p["power_capacity_mw"], lang)],
             [field_label("price_nok_m2", lang), value_label("price_nok_m2",
                                                             p["price_nok_m2"], lang)],
             [t("forum_drive", lang), paragraph("; ".join(minutes) or DASH, s["BodyText"])],
             [t("contact", lang), p["contact"] or DASH]]
    best = [[t("purpose", lang), t("score", lang)]] + [
        [sc["profile_name_nb"] if lang == "nb" else sc["profile_name_en"],
         fmt_number(sc["score"], 1, lang)] for sc in scores[:3]]
    png = static_map(session, [plot["id"]], size=(7, 4.2), margin_m=1500, lang=lang)
    story = _head(p["name"], t("forum_factsheet", lang), lang)
    story += [_table(facts, [4 * cm, 13 * cm]), Spacer(1, 0.3 * cm)]
    if p.get("description"):
        story += [paragraph(p["description"], s["Normal"]), Spacer(1, 0.2 * cm)]
    story.append(_table(best, [8 * cm, 3 * cm]))
    if settlement_note and scores:
        story.append(paragraph(t("criteria_settlements_note", lang), s["Italic"]))
    story += [Spacer(1, 0.3 * cm), Image(io.BytesIO(png), width=16 * cm, height=9.6 * cm),
              paragraph(t("forum_drive_note", lang), s["Italic"]),
              paragraph(attribution(lang), s["Italic"])]
    return _doc(p["name"], story)


def _bar_chart(accounts: dict[str, Any], lang: str = "nb") -> bytes:
    """Stacked bars: free, reserved/negotiating and sold/built daa per kommune."""
    names = [k["name"] for k in accounts["kommuner"]]
    stacks: dict[str, list[float]] = {t("forum_acc_free", lang): [],
                                      t("forum_acc_reserved_negotiating", lang): [],
                                      t("forum_acc_sold_built", lang): []}
    free, held, gone = stacks.values()
    for k in accounts["kommuner"]:
        g = k["groups"].values()
        free.append(sum(c["ledig"] for c in g))
        held.append(sum(c["reservert"] + c["under_forhandling"] for c in g))
        gone.append(sum(c["solgt"] + c["utbygd"] for c in g))
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=150)
    bottom = [0.0] * len(names)
    for (label, values), colour in zip(stacks.items(), ("#1a9850", "#fdae61", "#878787"),
                                       strict=True):
        ax.bar(names, values, bottom=bottom, label=label, color=colour)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("daa")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _pos: fmt_number(v, 0, lang)))
    ax.legend(fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def accounts_pdf(accounts: dict[str, Any], lang: str = "nb") -> bytes:
    """The land accounts: region table, years of supply, a stacked bar chart per kommune."""
    s = _styles()
    purposes = dict(catalogue_values("purpose_group", lang))
    rows = [[t(k, lang) for k in ("purpose", "forum_acc_free", "byggeklar",
                                   "forum_acc_reserved", "forum_acc_sold",
                                   "forum_acc_farmland", "forum_acc_flood",
                                   "forum_acc_demand", "forum_acc_years")]]
    for g, c in accounts["region"].items():
        rows.append([purposes.get(g, g), *[fmt_number(c[k], 1, lang) for k in (
            "ledig", "byggeklar_free", "reservert", "solgt", "farmland_free", "flood_free",
            "yearly_demand_daa")], fmt_number(c["years_of_supply"], 0, lang)])
    story = _head(t("forum_acc_title", lang),
                  t("forum_acc_target", lang,
                    jobs=fmt_number(accounts["target_jobs_per_year"], 0, lang)), lang)
    story += [_table(rows), Spacer(1, 0.4 * cm),
              Image(io.BytesIO(_bar_chart(accounts, lang)), width=17 * cm, height=7.6 * cm),
              paragraph(t("forum_acc_assumptions", lang) + ": " + "; ".join(
                  accounts["assumptions"]["sources"].values()), s["Italic"]),
              paragraph(attribution(lang), s["Italic"])]
    return _doc(t("forum_acc_title", lang), story)


def catalogue_values(field: str, lang: str) -> dict[str, str]:
    """The labels of a coded field (landreg.i18n.labels)."""
    from landreg.i18n import labels

    return labels(field, lang)
