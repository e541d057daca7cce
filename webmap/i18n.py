"""Bokmål by default, English on request: the words the pages and the map script use."""

from __future__ import annotations

LANGS = ("nb", "en")

TEXT: dict[str, dict[str, str]] = {
    "nb": {
        "title": "Næringsarealer i Glåmdalen", "map": "Kart", "filters": "Filter",
        "kommune": "Kommune", "purpose": "Formål", "availability": "Status",
        "min_daa": "Min. daa", "max_daa": "Maks. daa", "byggeklar": "Byggeklar",
        "any": "Alle", "yes": "Ja", "no": "Nei", "colour_by": "Farge etter",
        "by_availability": "status", "by_purpose": "formål", "plots": "tomter",
        "reset": "Nullstill", "permalink": "Lenke til dette utvalget", "legend": "Tegnforklaring",
        "area": "Areal", "arealformal": "Arealformål", "plan": "Plan", "readiness": "Byggeklarhet",
        "road": "Veg", "water": "Vann/avløp", "power": "Strøm", "price": "Pris",
        "contact": "Kontakt", "open_page": "Åpne tomtesiden",
        "within_min": "Innen min. kjøring", "within_to": "fra",
        "isochrones": "Kjøretidssoner (15/30/45/60 min) fra",
        "drive": "Kjøretid (min)", "drive_note": "antatte hastigheter på N1000-vegnettet",
        "drive_gardermoen": "Gardermoen", "drive_oslo": "Oslo", "drive_alnabru": "Alnabru",
        "drive_junction": "E16/Rv2-kryss", "drive_station": "stasjon", "drive_border": "grensen",
        "ownership": "Eierskap",
        "offline": "Uten nett: enkel bakgrunn", "background": "Bakgrunn (kommuner)",
        "topo": "Kartverket topografisk", "kommuner": "Kommunegrenser",
        "roads": "Veger (E16/Rv2 uthevet)", "rail": "Jernbane", "stations": "Stasjoner",
        "water_layer": "Elver og innsjøer", "built_up": "Tettsteder",
        "power_lines": "Kraftlinjer", "not_found": "Fant ikke tomten",
        "description": "Beskrivelse", "back": "Tilbake til kartet", "language": "English",
        "fictitious": "Demo: tomtene er fiktive.", "max_bya": "Maks. BYA", "height": "Maks. høyde",
        "loading": "Laster …", "error": "Kunne ikke hente tomter",
        "by_score": "egnethet", "profile": "Formålsprofil", "score": "Egnethet",
        "show_surface": "Vis egnethet for hele regionen", "excluded": "utelukket",
        "rank": "Rangering", "pick": "Velg for sammenligning", "unpick": "Fjern fra sammenligning",
        "compare": "Sammenlign valgte", "login": "Logg inn", "logout": "Logg ut",
        "draw": "Tegn ny tomt", "edit": "Rediger", "save": "Lagre", "cancel": "Avbryt",
        "history": "Historikk", "name": "Navn", "saved": "Lagret", "new_plot": "Ny tomt",
        "conflict": "Noen andre har lagret tomten før deg", "published": "Publisert",
        "withdraw": "Trekk tilbake", "withdrawn": "Trukket tilbake", "restore": "gjenopprett",
        "mine": "Din versjon", "saved_by": "Lagret av",
        "edit_hint": "Dra i hjørnene for å endre omrisset (fester seg til nabotomter).",
    },
    "en": {
        "title": "Business land in Glåmdalen", "map": "Map", "filters": "Filters",
        "kommune": "Municipality", "purpose": "Purpose", "availability": "Status",
        "min_daa": "Min. daa", "max_daa": "Max. daa", "byggeklar": "Ready to build",
        "any": "Any", "yes": "Yes", "no": "No", "colour_by": "Colour by",
        "by_availability": "status", "by_purpose": "purpose", "plots": "plots",
        "reset": "Reset", "permalink": "Link to this selection", "legend": "Legend",
        "area": "Area", "arealformal": "Zoning", "plan": "Plan", "readiness": "Readiness",
        "road": "Road", "water": "Water/sewer", "power": "Power", "price": "Price",
        "contact": "Contact", "open_page": "Open the plot page",
        "within_min": "Within min. drive", "within_to": "of",
        "isochrones": "Drive-time zones (15/30/45/60 min) from",
        "drive": "Drive time (min)", "drive_note": "assumed speeds on the N1000 road network",
        "drive_gardermoen": "Gardermoen", "drive_oslo": "Oslo", "drive_alnabru": "Alnabru",
        "drive_junction": "E16/Rv2 junction", "drive_station": "station",
        "drive_border": "border", "ownership": "Ownership",
        "offline": "Offline: plain background", "background": "Background (municipalities)",
        "topo": "Kartverket topographic", "kommuner": "Municipal borders",
        "roads": "Roads (E16/Rv2 highlighted)", "rail": "Railway", "stations": "Stations",
        "water_layer": "Rivers and lakes", "built_up": "Built-up areas",
        "power_lines": "Power lines", "not_found": "Plot not found",
        "description": "Description", "back": "Back to the map", "language": "Norsk",
        "fictitious": "Demo: the plots are fictitious.", "max_bya": "Max. site coverage",
        "height": "Max. height", "loading": "Loading …", "error": "Could not load plots",
    },
}

AVAILABILITY_LABELS = {
    "nb": {"ledig": "Ledig", "reservert": "Reservert", "under_forhandling": "Under forhandling",
           "solgt": "Solgt", "utbygd": "Utbygd", "trukket": "Trukket"},
    "en": {"ledig": "Available", "reservert": "Reserved", "under_forhandling": "In negotiation",
           "solgt": "Sold", "utbygd": "Built", "trukket": "Withdrawn"},
}
PURPOSE_LABELS = {
    "nb": {"industri": "Industri", "lager_logistikk": "Lager/logistikk", "kontor": "Kontor",
           "handel": "Handel", "naering": "Næring (generell)", "kombinert": "Kombinert",
           "annen": "Annen næring"},
    "en": {"industri": "Industry", "lager_logistikk": "Warehousing/logistics",
           "kontor": "Offices", "handel": "Retail", "naering": "Business (general)",
           "kombinert": "Combined", "annen": "Other business"},
}


def pick_lang(value: str | None) -> str:
    """``nb`` unless ``en`` is asked for."""
    return value if value in LANGS else "nb"


def bundle(lang: str) -> dict[str, object]:
    """Everything the page script needs in one language."""
    return {"text": TEXT[lang], "availability": AVAILABILITY_LABELS[lang],
            "purpose": PURPOSE_LABELS[lang]}
