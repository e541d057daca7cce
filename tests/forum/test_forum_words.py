"""What a person reads on the forum's pages, PDFs and meeting maps (issue 12): labels, never
field names, raw keys, True/False or a decimal point in Norwegian; complete English with
``?lang=en``. Each document's rendered text is scanned (pypdf for the PDFs)."""

from __future__ import annotations

import html as htmllib
import io
import re

import pytest
from pypdf import PdfReader

PROFILE = "logistics"
#: field names and raw keys: lower-case words joined by underscores (area_daa, lager_logistikk)
RAW_KEY = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")
BOOLEAN = re.compile(r"\b(True|False|None|nan)\b")
DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b")
#: Norwegian UI words that must not be left on an English document (plot names and the
#: demo's descriptions are data and stay Norwegian)
NORWEGIAN = ("Sammenligning", "Rangering", "Vekter", "Utvalg", "Egnethet", "Kjøretid",
             "Arealregnskap", "Faktaark", "Plassering", "Brudd på", "Ledig", "Beste verdi",
             "Last ned", "Kartdata", "i utvalget", "i regionen", "Tegnforklaring", "Formål",
             "Kommune:", "Laget ")


@pytest.fixture(scope="module")
def client(settings):
    from landreg.web import create_app

    return create_app({"TESTING": True}, settings=settings).test_client()


@pytest.fixture(scope="module")
def plots(client) -> str:
    items = client.get(f"/api/rankings/{PROFILE}").get_json()["items"]
    sold = next(i for i in items if i["availability"] == "solgt")
    excluded = next(i for i in items if i["excluded"])
    return ",".join(str(i) for i in dict.fromkeys([items[0]["plot_id"], sold["plot_id"],
                                                   excluded["plot_id"]]))


def _page_text(res) -> str:
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    body = res.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S | re.I)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", body))


def _pdf_text(res) -> str:
    assert res.status_code == 200 and res.mimetype == "application/pdf"
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(res.data)).pages)


def _demand_notes() -> dict[str, dict[str, str]]:
    """The forum's own notes in layers/land_demand.yaml, per key: {nb: ..., en: ...}."""
    import yaml

    from landreg.settings import REPO_ROOT

    demand = yaml.safe_load((REPO_ROOT / "layers" / "land_demand.yaml").read_text())
    return {k: v for k, v in demand.items() if k.endswith("source")}


def _readable(text: str, lang: str, what: str) -> None:
    text = " ".join(text.split())
    for quoted in ["CC BY 4.0"]:  # a licence's name, not a number
        text = text.replace(quoted, " ")
    assert not RAW_KEY.findall(text), f"{what}: raw keys {set(RAW_KEY.findall(text))}"
    assert not BOOLEAN.findall(text), f"{what}: {BOOLEAN.findall(text)}"
    raw_units = re.findall(r"\d\s(?:andel|grader)\b", text)  # criteria.yaml's unit codes
    assert not raw_units, f"{what}: raw units {raw_units[:5]}"
    if lang == "nb":
        points = re.findall(r".{30}\d\.\d+.{10}", DATE.sub(" ", text))
        assert not points, f"{what}: decimal points {points[:5]}"
    else:
        commas = re.findall(r"\d,\d(?!\d\d)", text)
        assert not commas, f"{what}: decimal commas {commas[:5]}"
        left = [w for w in NORWEGIAN if w in text]
        assert not left, f"{what}: Norwegian left in English: {left}"


def _documents(client, plots: str, lang: str) -> dict[str, str]:
    q = f"lang={lang}" if lang == "en" else ""
    cmp = f"profile={PROFILE}&plots={plots}&kommune=3401,3416&{q}"
    pid = plots.split(",")[0]
    return {
        "comparison page": _page_text(client.get(f"/compare?{cmp}")),
        "accounts page": _page_text(client.get(f"/accounts?{q}")),
        "comparison PDF": _pdf_text(client.get(f"/compare/report.pdf?{cmp}")),
        "ranking PDF": _pdf_text(client.get(f"/rankings/{PROFILE}/report.pdf?top=40&{q}")),
        "accounts PDF": _pdf_text(client.get(f"/accounts/report.pdf?{q}")),
        "factsheet PDF": _pdf_text(client.get(f"/plots/{pid}/factsheet.pdf?{q}")),
        "meeting map (comparison)": _page_text(client.get(f"/compare/export.html?{cmp}")),
        "meeting map (ranking)": _page_text(client.get(
            f"/rankings/{PROFILE}/export.html?availability=ledig&{q}")),
    }


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_labels_and_number_formats_in_every_document(client, plots, lang):
    docs = _documents(client, plots, lang)
    for what, text in docs.items():
        _readable(text, lang, what)
    if lang == "nb":
        page = " ".join(docs["comparison page"].split())
        assert "Areal (daa)" in page and "Vegtilkomst" in page and "Status" in page
        assert re.search(r"\d,\d", page)  # decimal commas are there
        assert "Solgt" in page and "Ja" in page or "Nei" in page
        pdf = " ".join(docs["comparison PDF"].split())
        assert "Vekter: Avstand til kryss på E16/Rv2 20 %" in pdf  # names, not ids
        # drive minutes (issue 13)
        assert re.search(r"Gardermoen \d+ min", " ".join(docs["factsheet PDF"].split()))
    else:
        page = " ".join(docs["comparison page"].split())
        assert "Comparison for Logistics" in page and "Area (daa)" in page
        assert "Drive time: " in page and "in the selection" in page
        assert "Weights: " in " ".join(docs["comparison PDF"].split())
        assert "Land accounts" in docs["accounts PDF"] and "Factsheet" in docs["factsheet PDF"]
        assert "Legend" in docs["meeting map (ranking)"]


def test_land_demand_notes_are_complete_in_both_languages(tmp_path):
    """Every source note of the land-demand assumptions has its Bokmål and English text, and
    a note in one language only is refused when the file is read (not shown half-translated)."""
    from landreg.errors import ConfigurationError
    from landreg.forum.accounts import load_demand
    from landreg.settings import REPO_ROOT

    notes = _demand_notes()
    assert set(notes) == {"target_source", "shares_source", "jobs_per_daa_source"}
    for key, note in notes.items():
        assert set(note) == {"nb", "en"} and all(v.strip() for v in note.values()), key
        assert note["nb"] != note["en"], key
    load_demand(REPO_ROOT / "layers" / "land_demand.yaml")
    text = (REPO_ROOT / "layers" / "land_demand.yaml").read_text()
    for broken in (text.replace("  nb: \"Regionmøtet", "  xx: \"Regionmøtet"),
                   'target_source: "English only"\n' + text.replace("target_source:", "old:")):
        path = tmp_path / "land_demand.yaml"
        path.write_text(broken)
        with pytest.raises(ConfigurationError, match="target_source"):
            load_demand(path)


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_land_demand_notes_in_the_pages_language(client, lang):
    """The accounts page, its PDF and /api/accounts give the notes in the request's language."""
    notes = _demand_notes()
    other = "en" if lang == "nb" else "nb"
    q = "?lang=en" if lang == "en" else ""
    docs = {"page": " ".join(_page_text(client.get(f"/accounts{q}")).split()),
            "PDF": " ".join(_pdf_text(client.get(f"/accounts/report.pdf{q}")).split()),
            "API": " ".join(" ".join(client.get(f"/api/accounts{q}").get_json()[
                "assumptions"]["sources"].values()).split())}
    for what, text in docs.items():
        for key, note in notes.items():
            assert " ".join(note[lang].split()) in text, (what, key)
            assert " ".join(note[other].split()) not in text, (what, key)
