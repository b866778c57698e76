"""Ranked lists for coordinators (XLSX + CSV per municipality) and the outreach status they keep.

A coordinator works down ``outreach_<GMxxxx>.xlsx`` (or the ``.csv``), calls owners and types a
status and a note into the ``outreach_status`` / ``outreach_note`` columns. ``plekzoeker outreach
import FILE`` reads those two columns back into ``result.outreach``, keyed by the stable
``candidate_key``; the next publish shows them again. So nothing a coordinator noted is lost:

- candidates marked with a status in ``publish.outreach_hide`` (default declined, unsuitable) sink
  to the bottom of the list (``publish.outreach_mode: sink``) or drop out (``drop``);
- a candidate that disappeared (the office is in use again) but has an outreach row stays in the
  list with its ``gone_since`` date;
- two coordinators editing the same candidate never overwrite each other unseen (versions and
  conflicting notes, see :mod:`plekzoeker.outputs.outreach_import`).

One concern per module, all importable from here:

- :mod:`~plekzoeker.outputs.outreach_words`: what a candidate is and why it ranks, in words;
- :mod:`~plekzoeker.outputs.outreach_lists`: the list as a frame (SQL in ``sql/outreach.sql``),
  its order and the ``publish.outreach_*`` options;
- :mod:`~plekzoeker.outputs.outreach_write`: the CSV and XLSX files;
- :mod:`~plekzoeker.outputs.outreach_import`: reading edits back, versions and conflicts, the
  stored records.

Owner names are personal data: they are read from ``core.owner`` only when the caller asks for
them (``with_owner_names=True``) and then only written into these lists, never into GeoJSON/HTML.
"""
from __future__ import annotations

from plekzoeker.db.owners import owners
from plekzoeker.outputs.outreach_import import (
                                                EDIT_COLUMNS,
                                                IMPORT_LOCK,
                                                Conflict,
                                                EditRow,
                                                ImportSummary,
                                                import_outreach,
                                                list_outreach,
                                                outreach_history,
                                                read_edits,
)
from plekzoeker.outputs.outreach_lists import (
                                                LIST_COLUMNS,
                                                STATUSES,
                                                ListOptions,
                                                list_frame,
                                                list_options,
                                                municipality_of,
                                                normalise_status,
                                                order_list,
                                                owner_export_loaded,
)
from plekzoeker.outputs.outreach_words import CATEGORY_WORDS, USE_WORDS, evidence_phrase, what_it_is, why
from plekzoeker.outputs.outreach_write import ABOUT, FREE_TEXT, LIST_SHEET, PRIVATE_MODE, write_csv, write_lists, write_xlsx

__all__ = ["ABOUT", "CATEGORY_WORDS", "EDIT_COLUMNS", "FREE_TEXT", "IMPORT_LOCK", "LIST_COLUMNS",
           "LIST_SHEET", "PRIVATE_MODE", "STATUSES", "USE_WORDS", "Conflict", "EditRow", "ImportSummary", "ListOptions",
           "evidence_phrase", "import_outreach", "list_frame", "list_options", "list_outreach", "municipality_of",
           "normalise_status", "order_list", "outreach_history", "owner_export_loaded", "owners", "read_edits",
           "what_it_is", "why", "write_csv", "write_lists", "write_xlsx"]
