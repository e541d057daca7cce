"""The catalogue (landreg.i18n) in the templates: the request's language, its words, its
number and date formats, and a language switch that keeps the page's state.

Every template gets ``lang``, ``t`` (the words, ``t.map``), ``tr(key, **params)``,
``label(field)``, ``other_lang``, ``lang_url(lang)`` and the filters ``num``, ``daa``,
``quantity(unit)``, ``date``, ``datetime`` and ``value(field)``; ``i18n_bundle`` is what
base.html hands to landreg-i18n.js. The language is ``?lang=en`` on any page (Bokmål
otherwise), so a link or bookmark carries it.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context, request

from landreg import i18n


def current_lang() -> str:
    """The request's language: ``?lang=en`` gives English, anything else Bokmål."""
    if not has_request_context():
        return "nb"
    if "landreg_lang" not in g:
        g.landreg_lang = i18n.pick_lang(request.args.get("lang"))
    return g.landreg_lang


def lang_url(lang: str) -> str:
    """This page in ``lang``, with every other query parameter kept (filters, profile …)."""
    from landreg.web.auth import safe_next
    from landreg.web.params import url_with_query

    # ``next`` is kept only as the login would follow it: a hostile one is not echoed
    items = [(k, safe_next(v) if k == "next" else v)
             for k, v in request.args.items(multi=True) if k != "lang"]
    if i18n.pick_lang(lang) != "nb":
        items.append(("lang", i18n.pick_lang(lang)))
    return url_with_query(request.endpoint or "pages.map_page", items,
                          **(request.view_args or {}))


def _lang(lang: str | None) -> str:
    return i18n.pick_lang(lang) if lang else current_lang()


def _context() -> dict[str, Any]:
    lang = current_lang()
    return {"lang": lang, "t": i18n.catalogue()["text"][lang],
            "other_lang": "en" if lang == "nb" else "nb", "lang_url": lang_url,
            "tr": lambda key, **kw: i18n.t(key, lang, **kw),
            "label": lambda field: i18n.field_label(field, lang),
            "i18n_bundle": _bundle, "current_user": _principal}


def _principal() -> Any:
    from landreg.web.auth import current_principal

    return current_principal()


def _bundle() -> dict[str, Any]:
    from landreg.web.auth import current_principal

    return i18n.bundle(current_lang(), internal=current_principal() is not None)


def init_app(app: Flask) -> None:
    """Register the context and the filters."""
    app.context_processor(_context)
    app.jinja_env.filters.update(
        num=lambda v, digits=1, lang=None: i18n.fmt_number(v, digits, _lang(lang)),
        daa=lambda v, digits=1, lang=None: i18n.fmt_daa(v, _lang(lang), digits),
        quantity=lambda v, unit, lang=None: i18n.fmt_quantity(v, unit, _lang(lang)),
        date=lambda v, lang=None: i18n.fmt_date(v, _lang(lang)),
        datetime=lambda v, lang=None: i18n.fmt_datetime(v, _lang(lang)),
        value=lambda v, field, lang=None: i18n.value_label(field, v, _lang(lang)),
    )
