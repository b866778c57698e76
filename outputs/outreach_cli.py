"""``plekzoeker outreach import|list``: the coordinator's statuses and notes in result.outreach.

Registered in plekzoeker/cli.py with ``app.add_typer(outreach_app, name="outreach")``. The heavy
modules (pandas, the database) are imported when a command runs, so ``plekzoeker --help`` stays fast.
"""
from __future__ import annotations

from pathlib import Path

import typer

from ..errors import PlekzoekerError

STATUS_HELP = "new, contacted, in talks, declined, suitable, unsuitable"  # result.outreach CHECK constraint

app = typer.Typer(help="Outreach status a coordinator keeps per candidate (survives nightly runs).",
                  no_args_is_help=True)


def _engine():
    from ..pipelines.stages import engine_ready

    return engine_ready()


@app.command("import")
def import_cmd(path: Path = typer.Argument(..., help="An edited outreach list: outreach_<GMxxxx>.xlsx or .csv.")) -> None:
    """Read the outreach_status / outreach_note columns back into the database, keyed by candidate_key.

    Statuses (case-insensitive): new, contacted, in talks, declined, suitable, unsuitable.

    A row with a bad status or an unknown candidate_key is rejected with a message; the rest is imported.

    All in one transaction. Exit status 1 when rows were rejected.
    """
    from .outreach import import_outreach

    summary = import_outreach(_engine(), path)
    lines = summary.lines()
    typer.echo(lines[0])
    for line in lines[1:]:
        typer.echo(line, err=True)
    if summary.rejected:
        raise typer.Exit(1)


@app.command("list")
def list_cmd(status: list[str] | None = typer.Option(None, "--status", "-s",
                                                         help=f"Only these statuses (repeatable): {STATUS_HELP}."),
             as_csv: bool = typer.Option(False, "--csv", help="Comma-separated output for scripts.")) -> None:
    """Show the stored outreach statuses and notes, ranked candidates first (gone ones with their date)."""
    from .outreach import list_outreach

    try:
        rows = list_outreach(_engine(), status)
    except ValueError as exc:
        raise PlekzoekerError(f"--status: {exc}") from None
    if as_csv:
        import csv
        import sys

        w = csv.writer(sys.stdout)
        w.writerow(["candidate_key", "status", "note", "rank", "gone_since", "label", "updated_at"])
        for r in rows:
            w.writerow([r["candidate_key"], r["status"], r["note"] or "", r["rank"] or "", r["gone_since"] or "",
                        r["label"] or "", r["updated_at"].isoformat(timespec="seconds")])
        return
    if not rows:
        typer.echo("no outreach statuses stored" + (f" with status {', '.join(status)}" if status else ""))
        return
    for r in rows:
        where = f"#{r['rank']}" if r["rank"] else (f"gone since {r['gone_since']}" if r["gone_since"] else "not ranked")
        note = f" — {r['note']}" if r["note"] else ""
        typer.echo(f"{r['status']:<11} {where:<18} {r['candidate_key']}  {r['label'] or ''}{note}")
    typer.echo(f"{len(rows)} candidate(s)")
