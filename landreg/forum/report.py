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
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

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

ATTRIBUTION = "Kartdata © Kartverket (N1000, CC BY 4.0). Demo: tomtene er fiktive."


def _frame(session: Session, model: Any, where: Any = None) -> gpd.GeoDataFrame:
    stmt = select(model, func.ST_AsBinary(model.geom))
    if where is not None:
        stmt = stmt.where(where)
    rows = session.execute(stmt).all()
    return gpd.GeoDataFrame({"obj": [r[0] for r in rows]}, crs=25833,
                            geometry=shapely.from_wkb([bytes(r[1]) for r in rows]))


def static_map(session: Session, plot_ids: list[int], *, labels: list[str] | None = None,
               size: tuple[float, float] = (7.5, 6.0), margin_m: float = 3000) -> bytes:
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
    handles = [Patch(facecolor="#1a9850", edgecolor="#0b4d2c", label="Tomt (nr.)"),
               Line2D([], [], color="#c0392b", lw=1.6, label="E- og riksveg"),
               Line2D([], [], color="#222", lw=1.2, ls="--", label="Jernbane"),
               Patch(facecolor="#f2efe6", edgecolor="#666", ls="--", label="Kommune")]
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


def _head(title: str, subtitle: str) -> list:
    s = _styles()
    return [paragraph(title, s["Title"]),
            paragraph(f"{subtitle} — {date.today().strftime('%d.%m.%Y')}", s["Normal"]),
            Spacer(1, 0.3 * cm)]


def _weights(weights: dict[str, float]) -> str:
    return "Vekter: " + ", ".join(f"{k} {v:g} %" for k, v in weights.items())


def ranking_pdf(session: Session, profile_name: str, weights: dict[str, float],
                items: list[dict[str, Any]], top: int = 20) -> bytes:
    """The ranking of a profile: table of the best plots and a map of the top ten."""
    s = _styles()
    shown = items[:top]
    rows = [["Nr.", "Tomt", "Kommune", "daa", "Status", "Poeng", "Merknad"]]
    for i in shown:
        rows.append([i["rank"], i["name"], i["kommunenavn"], f"{i['area_daa']:.1f}",
                     i["availability"], f"{i['score']:.1f}",
                     "utelukket: " + "; ".join(i["reasons"]) if i["excluded"] else ""])
    png = static_map(session, [i["plot_id"] for i in shown[:10]]) if shown else None
    story = _head(f"Rangering: {profile_name}", "Næringsarealer i Glåmdalen")
    story += [paragraph(_weights(weights), s["Normal"]), Spacer(1, 0.3 * cm),
              _table(rows, [1.1 * cm, 6 * cm, 2.6 * cm, 1.5 * cm, 2.4 * cm, 1.5 * cm, 3 * cm])]
    if png:
        story += [PageBreak(), paragraph("Kart over de ti beste", s["Heading2"]),
                  Image(io.BytesIO(png), width=17 * cm, height=13.6 * cm)]
    story += [Spacer(1, 0.3 * cm), paragraph(ATTRIBUTION, s["Italic"])]
    return _doc(f"Rangering {profile_name}", story)


def comparison_pdf(session: Session, c: dict[str, Any]) -> bytes:
    """A comparison: plots side by side, every criterion, and a map with only those plots."""
    s = _styles()
    names = [f"{n}. {p['name']}" for n, p in enumerate(c["plots"], start=1)]
    rows = [["", *names],
            ["Egnethet", *[f"{p['score']:.1f}" if p["score"] is not None else "–"
                           for p in c["plots"]]],
            ["Brudd på krav", *["; ".join(p["reasons"]) or "–" for p in c["plots"]]]]
    for row in c["criteria"]:
        rows.append([f"{row['name_nb']} ({row['weight']:g} %)", *[
            "–" if v["raw"] is None else f"{v['raw']:.1f} {row['unit']} → {v['contribution']:.1f} p"
            for v in row["values"]]])
    for row in c["distances"]:
        rows.append([row["name_nb"], *["–" if v is None else f"{v:.0f} m"
                                      for v in row["values"]]])
    for f in c["facts"]:
        rows.append([f["field"], *["–" if v is None else str(v) for v in f["values"]]])
    width = (25 * cm) / (len(names) + 1)
    png = static_map(session, [p["id"] for p in c["plots"]], size=(10, 5.5))
    story = _head(f"Sammenligning: {c['profile_name_nb']}", "Næringsarealer i Glåmdalen")
    story += [paragraph(_weights(c["weights"]), s["Normal"]), Spacer(1, 0.3 * cm),
              _table(rows, [width] * (len(names) + 1)), PageBreak(),
              Image(io.BytesIO(png), width=24 * cm, height=13.2 * cm),
              paragraph(ATTRIBUTION, s["Italic"])]
    return _doc(f"Sammenligning {c['profile_name_nb']}", story, wide=True)


def factsheet_pdf(session: Session, plot: dict[str, Any], scores: list[dict[str, Any]]) -> bytes:
    """One page for an investor: the plot's facts, its best purposes and a map."""
    s = _styles()
    p = plot["properties"]
    facts = [["Kommune", f"{p['kommunenavn']} ({p['kommunenummer']})"],
             ["Areal", f"{p['area_daa']:.1f} daa"],
             ["Arealformål", f"{p['arealformal']} {p['arealformal_name']}"],
             ["Status", p["availability"]],
             ["Byggeklar", "ja" if p["byggeklar"] else "nei"],
             ["Strøm", "–" if p["power_capacity_mw"] is None else f"{p['power_capacity_mw']} MW"],
             ["Pris", "–" if p["price_nok_m2"] is None else f"{p['price_nok_m2']:.0f} NOK/m²"],
             ["Kontakt", p["contact"] or "–"]]
    best = [["Formål", "Egnethet"]] + [[sc["profile_name_nb"], f"{sc['score']:.1f}"]
                                       for sc in scores[:3]]
    png = static_map(session, [plot["id"]], size=(7, 4.2), margin_m=1500)
    story = _head(p["name"], "Faktaark, næringsareal i Glåmdalen")
    story += [_table(facts, [4 * cm, 13 * cm]), Spacer(1, 0.3 * cm)]
    if p.get("description"):
        story += [paragraph(p["description"], s["Normal"]), Spacer(1, 0.2 * cm)]
    story += [_table(best, [8 * cm, 3 * cm]), Spacer(1, 0.3 * cm),
              Image(io.BytesIO(png), width=16 * cm, height=9.6 * cm),
              paragraph(ATTRIBUTION, s["Italic"])]
    return _doc(p["name"], story)


def _bar_chart(accounts: dict[str, Any]) -> bytes:
    """Stacked bars: free, reserved/negotiating and sold/built daa per kommune."""
    names = [k["name"] for k in accounts["kommuner"]]
    stacks = {"ledig": [], "reservert/forhandling": [], "solgt/utbygd": []}
    for k in accounts["kommuner"]:
        g = k["groups"].values()
        stacks["ledig"].append(sum(c["ledig"] for c in g))
        stacks["reservert/forhandling"].append(sum(c["reservert"] + c["under_forhandling"]
                                                   for c in g))
        stacks["solgt/utbygd"].append(sum(c["solgt"] + c["utbygd"] for c in g))
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=150)
    bottom = [0.0] * len(names)
    for (label, values), colour in zip(stacks.items(), ("#1a9850", "#fdae61", "#878787"),
                                       strict=True):
        ax.bar(names, values, bottom=bottom, label=label, color=colour)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("daa")
    ax.legend(fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def accounts_pdf(accounts: dict[str, Any]) -> bytes:
    """The land accounts: region table, years of supply, a stacked bar chart per kommune."""
    s = _styles()
    rows = [["Formål", "Ledig", "Byggeklar", "Reservert", "Solgt", "På dyrka mark",
             "Flomutsatt", "Behov/år", "År"]]
    for g, c in accounts["region"].items():
        rows.append([g, f"{c['ledig']:.1f}", f"{c['byggeklar_free']:.1f}",
                     f"{c['reservert']:.1f}", f"{c['solgt']:.1f}", f"{c['farmland_free']:.1f}",
                     f"{c['flood_free']:.1f}", f"{c['yearly_demand_daa']:.1f}",
                     "–" if c["years_of_supply"] is None else f"{c['years_of_supply']:.0f}"])
    story = _head("Arealregnskap for næringsarealer",
                  f"Mål: {accounts['target_jobs_per_year']:.0f} nye arbeidsplasser i året")
    story += [_table(rows), Spacer(1, 0.4 * cm),
              Image(io.BytesIO(_bar_chart(accounts)), width=17 * cm, height=7.6 * cm),
              paragraph("Forutsetninger: " + "; ".join(accounts["assumptions"]["sources"]
                                                       .values()), s["Italic"]),
              paragraph(ATTRIBUTION, s["Italic"])]
    return _doc("Arealregnskap", story)
