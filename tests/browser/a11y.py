"""An automated accessibility check for browser tests: axe-core (from npm, installed into
webmap/node_modules at set-up) run inside a Playwright page.

    from tests.browser.a11y import assert_accessible
    page.goto(url)
    assert_accessible(page, "login page")

axe is evaluated through the DevTools protocol (``page.evaluate``), which the page's Content
Security Policy does not govern, so the app's CSP stays as strict in the test as in use. Only
violations of impact *serious* or *critical* fail (WCAG 2.0/2.1 A and AA rules and axe's
best practices such as landmarks and one h1); the assertion message lists each rule, its
help text and link, and the elements with what axe says is wrong with them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parents[2] / "webmap" / "node_modules" / "axe-core" / "axe.min.js"
#: The rule sets run: WCAG 2.0/2.1/2.2 levels A and AA and axe's best practices.
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")
FAILING_IMPACTS = ("serious", "critical")


@lru_cache(maxsize=1)
def _axe_source() -> str:
    if not AXE_JS.is_file():
        raise FileNotFoundError(f"{AXE_JS} is missing: run `make test` once (it installs "
                                "axe-core from the npm registry into webmap/node_modules)")
    return AXE_JS.read_text(encoding="utf-8")


def axe_results(page: Any, *, include: str | None = None,
                exclude: list[str] | None = None) -> dict[str, Any]:
    """Run axe on ``page`` as it is now (optionally only within ``include`` / without the
    ``exclude`` selectors) and return its full result object."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    context: dict[str, Any] = {}
    if include:
        context["include"] = [include]
    if exclude:
        context["exclude"] = [[s] for s in exclude]
    return page.evaluate(
        """async ([context, tags]) => await window.axe.run(
               Object.keys(context).length ? context : document,
               {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})""",
        [context, list(TAGS)])


def serious_violations(page: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """The violations of impact serious or critical on ``page`` (see :func:`axe_results`)."""
    return [v for v in axe_results(page, **kwargs)["violations"]
            if v.get("impact") in FAILING_IMPACTS]


def format_violations(violations: list[dict[str, Any]], max_nodes: int = 5) -> str:
    """A readable list: rule id, impact, help and link, then each element's selector, its
    HTML and what axe found wrong."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}, {len(v['nodes'])} element(s)): "
                     f"{v['help']} <{v['helpUrl'].split('?')[0]}>")
        for node in v["nodes"][:max_nodes]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
            if summary:
                lines.append(f"      {summary[:300]}")
        if len(v["nodes"]) > max_nodes:
            lines.append(f"    … and {len(v['nodes']) - max_nodes} more")
    return "\n".join(lines)


def summarise(violations: list[dict[str, Any]]) -> list[tuple[str, str, int, str]]:
    """``(rule id, impact, count, first selector)`` per violation, for reports."""
    return [(v["id"], v["impact"], len(v["nodes"]),
             " ".join(map(str, v["nodes"][0]["target"])) if v["nodes"] else "")
            for v in violations]


def assert_accessible(page: Any, what: str, **kwargs: Any) -> None:
    """Fail with a readable list when axe finds a serious or critical violation."""
    found = serious_violations(page, **kwargs)
    assert not found, (f"axe-core: {len(found)} serious/critical accessibility violation(s) "
                       f"on {what} ({page.url}):\n{format_violations(found)}")
