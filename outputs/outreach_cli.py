"""``plekzoeker outreach import|list|history``: the coordinator's statuses and notes in result.outreach.

Registered in plekzoeker/cli.py with ``app.add_typer(outreach_app, name="outreach")``. The heavy
modules (pandas, the database) are imported when a command runs, so ``plekzoeker --help`` stays fast.
"""
from __future__ import annotations

from pathlib import Path

import typer

from plekzoeker.errors import PlekzoekerError

STATUS_HELP = "new, contacted, in talks, declined, suitable, unsuitable"  # result.outreach CHECK constraint

app = typer.Typer(help="Outreach status a coordinator keeps per candidate (survives nightly runs).",
                  no_args_is_help=True)


def _engine():
    from plekzoeker.db.migrate import engine_ready

    return engine_ready()


@app.command("import")
def import_cmd(path: Path = typer.Argument(..., help="An edited outreach list: outreach_<GMxxxx>.xlsx or .csv."),
               by: str | None = typer.Option(None, "--by", help="Who edited the list (kept in the history; "
                                                                "default: the file name)."),
               strict: bool = typer.Option(False, "--strict", help="Exit with status 2 when there are conflicts.")) -> None:
    """Read the outreach_status / outreach_note columns back into the database, keyed by candidate_key.

    Statuses (case-insensitive): new, contacted, in talks, declined, suitable, unsuitable.

    A row with a bad status or an unknown candidate_key is rejected with a message; the rest is imported.

    A row based on an older outreach_version than the database's is a conflict: the stored status
    stays current, the row's status/note is kept as a conflicting note (shown by `outreach list` and
    in the next lists); one line per conflict.

    All in one transaction. Exit status 1 when rows were rejected; 2 with --strict when there were
    conflicts; 0 otherwise.
    """
    from .outreach import import_outreach

    summary = import_outreach(_engine(), path, by=by)
    lines = summary.lines()
    typer.echo(lines[0])
    for line in lines[1:1 + len(summary.conflicts)]:
        typer.echo(line)
    for line in lines[1 + len(summary.conflicts):]:
        typer.echo(line, err=True)
    if summary.rejected:
        raise typer.Exit(1)
    if strict and summary.conflicts:
        raise typer.Exit(2)


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
        w.writerow(["candidate_key", "status", "note", "rank", "gone_since", "label", "updated_at", "version",
                    "updated_by", "conflicts"])
        for r in rows:
            w.writerow([r["candidate_key"], r["status"], r["note"] or "", r["rank"] or "", r["gone_since"] or "",
                        r["label"] or "", r["updated_at"].isoformat(timespec="seconds"), r["version"],
                        r["updated_by"] or "", " | ".join(_conflict_text(c) for c in r["conflicts"])])
        return
    if not rows:
        typer.echo("no outreach statuses stored" + (f" with status {', '.join(status)}" if status else ""))
        return
    for r in rows:
        where = f"#{r['rank']}" if r["rank"] else (f"gone since {r['gone_since']}" if r["gone_since"] else "not ranked")
        note = f" — {r['note']}" if r["note"] else ""
        typer.echo(f"{r['status']:<11} {where:<18} {r['candidate_key']}  {r['label'] or ''}{note}")
        for c in r["conflicts"]:
            typer.echo(f"{'':<11} conflicting note: {_conflict_text(c)}")
    n_conf = sum(1 for r in rows if r["conflicts"])
    typer.echo(f"{len(rows)} candidate(s)" + (f", {n_conf} with conflicting notes" if n_conf else ""))


def _conflict_text(c: dict) -> str:
    note = f" — {c['note']}" if c["note"] else ""
    return f"{c['changed_by'] or 'unknown'} on {c['changed_at']:%Y-%m-%d %H:%M}: {c['status']}{note}"


@app.command("history")
def history_cmd(key: str = typer.Argument(..., help="A candidate_key, e.g. pand:0307100000000001.")) -> None:
    """Every status change of one candidate (and every conflicting note), oldest first, with who and when."""
    from .outreach import outreach_history

    rows = outreach_history(_engine(), key)
    if not rows:
        typer.echo(f"{key}: no outreach history")
        return
    for r in rows:
        what = "conflict" if r["event"] == "conflict" else "change"
        note = f" — {r['note']}" if r["note"] else ""
        base = f" (based on v{r['based_on']})" if r["based_on"] is not None and r["event"] == "conflict" else ""
        typer.echo(f"{r['changed_at']:%Y-%m-%d %H:%M}  v{r['version']:<3} {what:<8} {r['status']:<11} "
                   f"by {r['changed_by'] or 'unknown'}{base}{note}")
    typer.echo(f"{sum(r['event'] == 'change' for r in rows)} change(s), "
               f"{sum(r['event'] == 'conflict' for r in rows)} conflicting note(s)")
