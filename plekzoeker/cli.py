"""The ``plekzoeker`` command line. Every command has --help; errors are one clear line (--debug for a traceback)."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import typer

from .errors import ConfigError, PlekzoekerError
from .outputs.outreach_cli import app as outreach_app

app = typer.Typer(help="plekzoeker: find vacant buildings and undeveloped plots where people can live now.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="The database: the managed local PostGIS cluster, or DATABASE_URL.", no_args_is_help=True)
ingest_app = typer.Typer(help="Load source files into PostGIS (validated, atomic; unchanged files are skipped).",
                         no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ingest_app, name="ingest")
app.add_typer(outreach_app, name="outreach")

STATE: dict = {"config": None, "debug": False}
log = logging.getLogger("plekzoeker")


class _NoPrefectTracebacks(logging.Filter):
    """Without --debug, Prefect's run loggers keep their messages but lose the tracebacks, and a failed
    flow is not reported twice: :func:`main` prints the one line saying why."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("prefect.flow_runs") and record.levelno >= logging.ERROR:
            return False
        record.exc_info, record.exc_text = None, None
        return True


def _setup_logging(verbose: bool, debug: bool) -> None:
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    for noisy in ("alembic", "httpx", "prefect.server", "distributed", "asyncio", "urllib3", "numexpr", "pyogrio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not debug:
        for name in ("prefect.flow_runs", "prefect.task_runs"):
            logging.getLogger(name).addFilter(_NoPrefectTracebacks())


@app.callback()
def main_options(
    config: Path | None = typer.Option(None, "--config", "-c", envvar="PLEKZOEKER_CONFIG",
                                          help="YAML config merged over config/default.yaml."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logging."),
    verbose: bool = typer.Option(True, "--verbose/--quiet", help="Log progress to stderr."),
) -> None:
    """Options shared by all commands. Environment: PLEKZOEKER_HOME (default ./.plekzoeker),
    DATABASE_URL (an external PostGIS; then no local cluster is started), PLEKZOEKER_CONFIG."""
    STATE["config"] = str(config) if config else None
    STATE["debug"] = debug
    _setup_logging(verbose, debug)
    from .prefect_env import configure

    configure(Path(os.environ.get("PLEKZOEKER_HOME", ".plekzoeker")).resolve(), debug=debug)
    if not debug:  # dask configures its own loggers at import: keep its cluster chatter out of the run log
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")


def _cfg(overrides: dict | None = None) -> dict:
    from .settings import load_config

    return load_config(STATE["config"], overrides)


def _engine():
    from .pipelines.stages import engine_ready

    return engine_ready()


def _area_override(area: str | None) -> dict | None:
    if not area:
        return None
    from .area import Area

    a = Area.parse(area)
    return {"area": {"municipality": a.gm_code, "bbox": list(a.bbox) if a.bbox else None}}


# --- db ------------------------------------------------------------------------------------------
def _cluster():
    from .db.cluster import Cluster
    from .settings import get_settings

    s = get_settings()
    if s.external_db:
        raise PlekzoekerError("DATABASE_URL is set: plekzoeker uses that server and manages no local cluster")
    return Cluster(s.home)


@db_app.command("start")
def db_start() -> None:
    """Create (first time) and start the local PostGIS cluster under $PLEKZOEKER_HOME/pg; migrate the schema."""
    from .db.engine import mask_url

    url = _cluster().start()
    _engine()
    typer.echo(f"PostGIS running: {mask_url(url)}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the local cluster (data stays)."""
    typer.echo("stopped" if _cluster().stop() else "not running")


@db_app.command("status")
def db_status() -> None:
    """Say whether the database is reachable, where it is, and the schema revision."""
    from .db.engine import check_connection, database_url, get_engine, mask_url
    from .db.migrate import current_revision
    from .settings import get_settings

    s = get_settings()
    if not s.external_db:
        c = _cluster()
        if not c.is_running():
            typer.echo(f"local cluster: not running (data dir {c.datadir}{'' if c.is_initialised() else ', not created yet'})")
            raise typer.Exit(1)
    engine = get_engine(start=False)
    check_connection(engine)
    typer.echo(f"database: {mask_url(database_url(start=False))}\nschema revision: {current_revision(engine) or 'none'}")


@db_app.command("url")
def db_url(show_password: bool = typer.Option(False, help="Print the password too (it is masked by default).")) -> None:
    """Print the SQLAlchemy URL of the database (for scripts, QGIS, psql)."""
    from .db.engine import database_url, mask_url

    url = database_url(start=False)
    typer.echo(url if show_password else mask_url(url))


@db_app.command("shell")
def db_shell() -> None:
    """Open psql on the database."""
    from sqlalchemy.engine import make_url

    from .db.engine import database_url

    u = make_url(database_url(start=False))
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    cmd = ["psql", "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username or "postgres", u.database or ""]
    raise typer.Exit(subprocess.call(cmd, env=env))


@db_app.command("migrate")
def db_migrate() -> None:
    """Bring the schema to the latest alembic revision (also done automatically by every stage)."""
    from .db.migrate import current_revision

    typer.echo(f"schema revision: {current_revision(_engine())}")


# --- ingest -------------------------------------------------------------------------------------
AREA_HELP = "GMxxxx, or minx,miny,maxx,maxy in RD New (EPSG:28992). Default: the config's area."
FORCE_HELP = "Reload even if this exact file was loaded before."
SHRINK_HELP = ("Accept a file that removes more than ingest.max_shrink (default 50 %) of the current rows "
               "(e.g. a deliberately smaller extract). Without it such a load is refused and nothing changes.")


def _ingest(kind: str, path: Path, area: str | None, force: bool, allow_shrink: bool = False) -> None:
    from .pipelines.stages import ingest_one

    res = ingest_one(_engine(), _cfg(_area_override(area)), kind, str(path), force=force, allow_shrink=allow_shrink)
    typer.echo(json.dumps(res, default=str))


@ingest_app.command("bag")
def ingest_bag(path: Path = typer.Argument(..., help="BAG GeoPackage (bag-light.gpkg) or LVBAG XML extract (zip/dir/xml)."),
               area: str | None = typer.Option(None, help=AREA_HELP), force: bool = typer.Option(False, help=FORCE_HELP),
               allow_shrink: bool = typer.Option(False, "--allow-shrink", help=SHRINK_HELP)) -> None:
    """Load BAG buildings (pand) and units (verblijfsobject)."""
    _ingest("bag", path, area, force, allow_shrink)


@ingest_app.command("brk")
def ingest_brk(path: Path = typer.Argument(..., help="BRK kadastrale kaart perceel GML or GPKG."),
               area: str | None = typer.Option(None, help=AREA_HELP), force: bool = typer.Option(False, help=FORCE_HELP),
               allow_shrink: bool = typer.Option(False, "--allow-shrink", help=SHRINK_HELP)) -> None:
    """Load Kadaster parcels."""
    _ingest("brk", path, area, force, allow_shrink)


@ingest_app.command("osm")
def ingest_osm(path: Path = typer.Argument(..., help=".osm.pbf or .osm file."),
               area: str | None = typer.Option(None, help=AREA_HELP), force: bool = typer.Option(False, help=FORCE_HELP),
               allow_shrink: bool = typer.Option(False, "--allow-shrink", help=SHRINK_HELP)) -> None:
    """Load the OSM street graph (walk/bike), POIs per category and exclusion land use."""
    _ingest("osm", path, area, force, allow_shrink)


@ingest_app.command("bgt")
def ingest_bgt(path: Path = typer.Argument(..., help="BGT GML zip (bgt_<layer>.gml files)."),
               area: str | None = typer.Option(None, help=AREA_HELP), force: bool = typer.Option(False, help=FORCE_HELP),
               allow_shrink: bool = typer.Option(False, "--allow-shrink", help=SHRINK_HELP)) -> None:
    """Load BGT surfaces (water, roads, terrain) used as plot exclusions."""
    _ingest("bgt", path, area, force, allow_shrink)


@ingest_app.command("gtfs")
def ingest_gtfs(path: Path = typer.Argument(..., help="GTFS feed: a zip (e.g. the national gtfs-nl.zip) or a folder of "
                                                     ".txt files with stops, routes, trips, stop_times and "
                                                     "calendar and/or calendar_dates (transfers optional)."),
                area: str | None = typer.Option(None, help=AREA_HELP), force: bool = typer.Option(False, help=FORCE_HELP),
                allow_shrink: bool = typer.Option(False, "--allow-shrink", help=SHRINK_HELP)) -> None:
    """Load public transport timetables, cut to the area widened by transit.area_buffer_m.

    Rows with malformed times or dates, or with a stop, trip, route or service id the feed does not
    define, are rejected into meta.reject with the reason; a missing file or a broken zip refuses the
    load in one line and the previous timetable stays."""
    _ingest("gtfs", path, area, force, allow_shrink)


@ingest_app.command("signals")
def ingest_signals(kind: str = typer.Argument(..., help="vacancy, establishments, energy, listings, owners, offers "
                                                         "(places owners offer) or labels (EP-Online energy labels, CSV or XML)."),
                   path: Path = typer.Argument(..., help="CSV file (UTF-8, header row; see README 'Signals'); "
                                                         "for labels also EP-Online XML."),
                   force: bool = typer.Option(False, help=FORCE_HELP),
                   allow_shrink: bool = typer.Option(False, "--allow-shrink", help=SHRINK_HELP)) -> None:
    """Load an optional signal CSV (replaces earlier rows of that kind)."""
    _ingest(f"signal:{kind}", path, None, force, allow_shrink)


@ingest_app.command("zoning")
def ingest_zoning(path: Path = typer.Argument(..., help="IMRO2012 GML, Omgevingsplan GeoJSON, or a directory / ZIP of "
                                                        "several plans (all plans of the area at once)."),
                  force: bool = typer.Option(False, help=FORCE_HELP),
                  allow_shrink: bool = typer.Option(False, "--allow-shrink", help=SHRINK_HELP)) -> None:
    """Load zoning plans (replaces the previous ones); where plans overlap the adopted/newer one wins."""
    _ingest("zoning", path, None, force, allow_shrink)


@ingest_app.command("monuments")
def ingest_monuments(path: Path = typer.Argument(..., help="CSV (BAG pand/verblijfsobject ids or x/y in RD New) or "
                                                           "GeoJSON/GeoPackage."),
                     kind: str = typer.Option("rijks", help="rijks (RCE Rijksmonumenten) or gemeentelijk (municipal list)."),
                     force: bool = typer.Option(False, help=FORCE_HELP),
                     allow_shrink: bool = typer.Option(False, "--allow-shrink", help=SHRINK_HELP)) -> None:
    """Load a monuments list (replaces earlier rows of that kind; the other kind stays)."""
    _ingest(f"monuments:{kind}", path, None, force, allow_shrink)


@ingest_app.command("3dbag")
def ingest_3dbag(path: Path = typer.Argument(..., help="3DBAG GeoPackage or CSV with identificatie, b3_h_maaiveld, "
                                                       "b3_h_dak_70p, b3_bouwlagen, b3_opp_grond."),
                 force: bool = typer.Option(False, help=FORCE_HELP),
                 allow_shrink: bool = typer.Option(False, "--allow-shrink", help=SHRINK_HELP)) -> None:
    """Load 3DBAG heights and floors per building."""
    _ingest("3dbag", path, None, force, allow_shrink)


@ingest_app.command("natura2000")
def ingest_natura2000(path: Path = typer.Argument(..., help="Natura 2000 polygons (GeoJSON, GeoPackage, Shapefile)."),
                      force: bool = typer.Option(False, help=FORCE_HELP),
                      allow_shrink: bool = typer.Option(False, "--allow-shrink", help=SHRINK_HELP)) -> None:
    """Load Natura 2000 sites: plots on them are excluded with that reason."""
    _ingest("natura2000", path, None, force, allow_shrink)


@ingest_app.command("raster")
def ingest_raster(kind: str = typer.Argument(..., help="Name, e.g. noise_lden, flood_depth, elevation."),
                  path: Path = typer.Argument(..., help="GeoTIFF in a projected CRS (EPSG:28992).")) -> None:
    """Register a constraint raster by path (read in windows at scoring time)."""
    _ingest(f"raster:{kind}", path, None, False)


# --- stages -------------------------------------------------------------------------------------
def _stage_run_id(engine, flow: str, cfg: dict) -> int:
    from .pipelines.stages import start_run

    return start_run(engine, flow, {}, cfg)


@app.command()
def detect(area: str | None = typer.Option(None, help=AREA_HELP)) -> None:
    """Detect vacant buildings and undeveloped plots into result.candidate."""
    from .pipelines.stages import finish_run
    from .scoring.detect import run_detect

    engine, cfg = _engine(), _cfg(_area_override(area))
    run_id = _stage_run_id(engine, "detect", cfg)
    res = run_detect(engine, cfg, run_id)
    finish_run(engine, run_id, "success", res)
    typer.echo(json.dumps({k: v for k, v in res.items() if k != "per_municipality"}))


@app.command()
def score() -> None:
    """Score candidates (network access, constraints, weights from the config) without re-ingest or re-detect."""
    from .pipelines.stages import finish_run
    from .scoring.run import run_score

    engine, cfg = _engine(), _cfg()
    run_id = _stage_run_id(engine, "score", cfg)
    res = run_score(engine, cfg, run_id)
    finish_run(engine, run_id, "success", res)
    typer.echo(json.dumps(res))


@app.command()
def publish(out: Path | None = typer.Option(None, "--out", help="Output directory (default: publish.out_dir, 'out')."),
            municipality: str | None = typer.Option(None, help="Only this municipality (GMxxxx)."),
            per_municipality: bool = typer.Option(False, help="Also write one file per municipality."),
            with_owner_names: bool = typer.Option(
                False, "--with-owner-names",
                help="Put owner names (personal data, from a loaded owner export) into the XLSX/CSV outreach "
                     "lists. Never into GeoJSON, the map or logs.")) -> None:
    """Write GeoJSON + QGIS styles/project, map.html, outreach lists and a changes report; point OUT/latest at them.

    Everything goes to OUT/runs/<time>-r<run>/ first; OUT/latest and OUT/<date> are then switched to
    it in one rename each, so readers never see a half-written publish.
    """
    from .area import normalise_municipality
    from .outputs.publish import publish as do_publish
    from .pipelines.stages import finish_run, out_dir_from

    engine, cfg = _engine(), _cfg()
    gm = f"GM{normalise_municipality(municipality)}" if municipality else None
    run_id = _stage_run_id(engine, "publish", cfg)
    res = do_publish(engine, cfg, out_dir_from(cfg, out), run_id, municipality=gm, municipality_files=per_municipality,
                     with_owner_names=with_owner_names)
    finish_run(engine, run_id, "success", res)
    _print_publish(res)


def _print_publish(res: dict) -> None:
    typer.echo(f"\nPublished {res['total']} ranked candidate(s) to {res['dir']}")
    for f, n in res["files"].items():
        typer.echo(f"  {f}: {n} feature(s)")
    if res["top5"]:
        typer.echo("Top 5:")
        for t in res["top5"]:
            typer.echo(f"  {t['rank']:>3}. {t['score']:.3f}  {t['kind']:<16} {t['label']}  ({t['area_m2']:.0f} m²)")


@app.command()
def nightly(out: Path | None = typer.Option(None, "--out", help="Output directory (default: publish.out_dir)."),
            force: bool = typer.Option(False, help="Rerun every stage even if nothing changed."),
            wait: bool = typer.Option(False, help="If another run holds the lock, wait for it instead of exiting."),
            area: str | None = typer.Option(None, help="Only this area: GMxxxx or minx,miny,maxx,maxy (RD New); "
                                                          "default: the config's area."),
            fetch_area: str | None = typer.Option(None, "--fetch", help="First fetch this area (GMxxxx or a bbox) "
                                                     "as a Prefect task with retries, then run on the fetched config."),
            scale_out: bool | None = typer.Option(None, "--scale-out/--single",
                                                     help="Detect and score per municipality on Dask (a LocalCluster, "
                                                          "or dask.address); default: the config's dask.enabled."),
            allow_shrink: bool = typer.Option(False, "--allow-shrink",
                                              help="For this run, accept inputs that remove more than "
                                                   "ingest.max_shrink of a table's rows (ingest.allow_shrink).")) -> None:
    """Run the nightly Prefect flow once (ingest → detect → score → publish), offline in ephemeral mode.

    Incremental: inputs whose sha256 is unchanged are not reloaded, and detect/score are skipped when
    their inputs and config did not change (each skip is logged with its reason). When nothing at all
    changed and OUT/latest is the publish of exactly this state, no flow is started: one log line says
    so and the night is recorded in meta.run (README, "An unchanged night"). --force reruns all.
    """
    dask = None if scale_out is None else {"enabled": scale_out}
    out_dir = str(out) if out else None
    if not force and not fetch_area:
        from .pipelines.stages import overrides
        from .pipelines.unchanged import skip_unchanged_night

        params = {"config_path": STATE["config"], "out_dir": out_dir, "force": force, "area": area, "dask": dask}
        current = skip_unchanged_night(STATE["config"], out_dir, overrides(area=area, dask=dask, allow_shrink=allow_shrink),
                                       params)
        if current is not None:
            _print_publish(current)
            return
    from .pipelines.flows import nightly as nightly_flow
    from .prefect_env import explain_start_failure, prepare

    prepare()
    try:
        res = nightly_flow(config_path=STATE["config"], out_dir=out_dir, force=force, wait=wait,
                           area=area, dask=dask, fetch=fetch_area, allow_shrink=allow_shrink)
    except RuntimeError as exc:
        friendly = explain_start_failure(exc)
        if friendly is None:
            raise
        raise friendly from exc
    _print_publish(res["publish"])


FETCH_HELP = """Download what the nightly run needs for one area into a cache folder, and write its config.

\b
AREA: a municipality code (GM0228), or --name Ede, or --bbox minx,miny,maxx,maxy (RD New).
\b
Sources (base URLs are config keys fetch.endpoints.<service>, so a mirror can stand in):
  boundary  PDOK bestuurlijke gebieden, OGC API Features, collection gemeentegebied (Kadaster, CC BY 4.0)
  bag       PDOK BAG OGC API v2, collections pand + verblijfsobject, paged by 'next'
            (Kadaster, Public Domain Mark / CC0) -- or a bbox read of a local bag-light.gpkg (--bag-gpkg)
  brk       PDOK kadastrale kaart download API v5, full/custom → poll → zip (Kadaster, CC BY 4.0)
  bgt       PDOK BGT download API v1, full/custom → poll → zip (CC0 1.0); areas larger than
            fetch.max_request_km2 are fetched in tiles and merged
  osm       Overpass API through osmnx (settings.overpass_url, its cache and rate limiting),
            written as .osm -- or a cut of a local extract by the polygon (--osm-pbf);
            © OpenStreetMap contributors, ODbL 1.0
Extras (--extras, default fetch.extras: both):
  natura2000  PDOK Natura 2000 OGC API, collection natura2000 (RVO, public domain): plot exclusions
  3dbag       3DBAG tile index (FlatGeobuf) → the tiles' GeoPackages meeting the area, checksums
              checked, kept in 3dbag-tiles/ (CC BY 4.0, 3DBAG by TU Delft / 3DGI): floors, heights
\b
Cache: <fetch.cache_dir>/<GMxxxx>/ (default data/GMxxxx/) with boundary.geojson, bag.gpkg, brk.zip,
bgt.zip, osm.osm, natura2000.geojson, 3dbag.csv, manifest.json (per file: source URL, request, time, size, sha256, licence,
attribution) and plekzoeker.yaml. A second fetch re-downloads nothing younger than --max-age
(fetch.max_age_days) unless --refresh. Every file is written, verified and then renamed, so a
failed fetch never replaces a good file; failures are one line each, exit status 2.
Then: plekzoeker --config data/GM0228/plekzoeker.yaml nightly
"""


@app.command("fetch", help=FETCH_HELP)
def fetch(code: str | None = typer.Argument(None, help="Municipality code, e.g. GM0228."),
          name: str | None = typer.Option(None, "--name", help="Municipality name, e.g. Ede."),
          bbox: str | None = typer.Option(None, "--bbox", help="minx,miny,maxx,maxy in RD New (EPSG:28992)."),
          bag_gpkg: Path | None = typer.Option(None, "--bag-gpkg", help="Read BAG from this local bag-light.gpkg."),
          osm_pbf: Path | None = typer.Option(None, "--osm-pbf", help="Cut OSM from this local .osm.pbf extract."),
          out: Path | None = typer.Option(None, "--out", help="Cache root (default: fetch.cache_dir, 'data')."),
          refresh: bool = typer.Option(False, "--refresh", help="Fetch again even what is fresh in the cache."),
          max_age: float | None = typer.Option(None, "--max-age", help="Days a cached file stays fresh (fetch.max_age_days)."),
          quiet: bool = typer.Option(False, "--quiet", help="No progress bars (for cron)."),
          extras: str | None = typer.Option(None, "--extras", help="Optional datasets, comma-separated: natura2000, "
                                            "3dbag; '' for none (default: fetch.extras, both).")) -> None:
    from .settings import FETCH_EXTRAS
    from .sources.fetch.run import Target, fetch_area

    target = Target.parse(code, name, bbox)
    chosen = None if extras is None else [x.strip() for x in extras.split(",") if x.strip()]
    if chosen and set(chosen) - set(FETCH_EXTRAS):
        raise ConfigError(f"--extras: {', '.join(sorted(set(chosen) - set(FETCH_EXTRAS)))} is not one of "
                          f"{', '.join(FETCH_EXTRAS)}")
    res = fetch_area(_cfg(), target, out_root=out, refresh=refresh, max_age_days=max_age, bag_gpkg=bag_gpkg,
                     osm_pbf=osm_pbf, quiet=quiet, extras=chosen)
    for d, r in res["datasets"].items():
        typer.echo(f"  {d}: {'cached (fresh)' if r.get('skipped') else r}")
    typer.echo(f"fetched {res['area']} into {res['folder']}; next: plekzoeker --config {res['config']} nightly")


@app.command("demo-data")
def demo_data(outdir: Path = typer.Argument(Path("demo-data"), help="Where to write the demo town files."),
              seed: int = typer.Option(7, help="Random seed (same seed, same files)."),
              units: int | None = typer.Option(None, help="Scale to about this many verblijfsobjecten (benchmarks)."),
              density: str = typer.Option("1,2", help="With --units: planted vacant buildings and usable plots per "
                                                      "1,000 units (copies of the office and plot cells), e.g. 1,2")) -> None:
    """Generate the fictitious demo town (GM9999) in the real delivery formats, plus demo.yaml to run it."""
    from .demo.config import write_demo_config
    from .demo.generate import generate_town, parse_density

    try:
        dens = parse_density(density)
    except ValueError as exc:
        raise ConfigError(f"--density: {exc}") from exc
    manifest = generate_town(outdir, seed=seed, units=units, density=dens)
    cfg_path = write_demo_config(outdir)
    typer.echo(f"demo town written to {outdir} ({manifest['counts']}); config: {cfg_path}")


def main() -> None:
    """Console entry point: clear one-line errors, tracebacks only with --debug."""
    try:
        app()
    except PlekzoekerError as exc:
        if STATE["debug"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, not a wall of text
        if STATE["debug"]:
            raise
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        typer.echo(f"error: {type(exc).__name__}: {msg} (rerun with --debug for details)", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
