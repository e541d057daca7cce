"""``landreg layers``: check the criteria catalogue and profiles, build the criterion rasters."""

from __future__ import annotations

import click

from landreg.cli import say, settings_of


@click.group("layers")
def command() -> None:
    """Suitability layers: the criteria catalogue and its rasters."""


@command.command("check")
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate layers/criteria.yaml and layers/profiles/*.yaml."""
    from landreg.scoring.catalogue import load_catalogue, load_profiles

    settings = settings_of(ctx)
    cat = load_catalogue(settings.layers_dir / "criteria.yaml")
    profiles = load_profiles(settings.layers_dir / "profiles", cat)
    for c in cat.criteria.values():
        flag = "  APPROXIMATE" if c.approximate else ""
        say(ctx, f"criterion {c.id:16} {c.build['kind']:9} {c.statistic:5} {c.unit}{flag}")
    for p in profiles.values():
        weights = ", ".join(f"{k} {v:g}" for k, v in p.weights.items())
        say(ctx, f"profile   {p.id:16} {weights}")
    say(ctx, f"catalogue version {cat.version}: {len(cat.criteria)} criteria, "
             f"{len(profiles)} profiles — OK")


@command.command("build")
@click.option("--res", type=click.FloatRange(min=5, max=1000), default=25.0, show_default=True,
              help="Cell size in metres (10 supported for the whole region).")
@click.pass_context
def build(ctx: click.Context, res: float) -> None:
    """Build the criterion GeoTIFFs (EPSG:25833); unchanged layers are reused from the cache."""
    from landreg.scoring.build import build_layers
    from landreg.scoring.catalogue import load_catalogue

    settings = settings_of(ctx)
    cat = load_catalogue(settings.layers_dir / "criteria.yaml")
    quiet = ctx.find_root().obj.get("quiet")
    out = build_layers(cat, settings.cache_dir, res, progress=not quiet)
    g = out["grid"]
    say(ctx, f"grid {g.width}×{g.height} cells of {g.res:g} m; built {len(out['built'])}, "
             f"cached {len(out['cached'])}; layers version {out['version']}")
