"""*Reports*: the weekly reports, monthly 通报 and daily digests, newest first; each shown or downloaded.

The files are those ``responders.reports.weekly.write``, ``monthly.write`` and ``responders.digest.write``
put in the reports directory (``weekly-2026-W47.html`` and ``.pdf``, ``monthly-2026-11.html``, ``.pdf`` and
``.csv``, ``digest-2026-12-07.html``). A digest is written as a file only when someone runs ``yuqing digest
show``, so a day with digest entries in the store and no file is listed too and rendered from the store.

Path safety: a name is served only when it is one of the names listed from the directory (a fixed
pattern of kind and period; regular files only, no symbolic links), so ``..``, absolute paths and
anything else are 404 without the name ever reaching the file system. Everyone signed in may read reports.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from responders import digest
from store.database import session_scope
from store.models import DigestEntry
from yuqing.webdesk.site import DeskSite

_FILE = re.compile(r"^(?P<stem>(?P<kind>weekly|monthly|digest)-(?P<label>\d{4}-W\d{2}|\d{4}-\d{2}|\d{4}-\d{2}-\d{2}))"
                   r"\.(?P<ext>html|pdf|csv)$")
KIND_NAMES = {"weekly": "舆情周报", "monthly": "月度通报", "digest": "网络信息摘要"}
DIGEST_DAYS = 62  # digest days from the store listed (about two months)
MEDIA = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}
# a stored report is our own HTML with inline styles and data: charts; it runs no script and is never framed
_REPORT_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline' 'self'; "
                               "frame-ancestors 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass
class Report:
    """One report: its kind and period, and which files of it there are (by extension)."""

    stem: str
    kind: str
    label: str
    files: dict[str, Path] = field(default_factory=dict)
    entries: int = 0  # a digest day's entries in the store

    @property
    def title(self) -> str:
        return f"{KIND_NAMES[self.kind]} {self.label}"

    @property
    def ends(self) -> dt.date:
        """The first day after the period: what "newest" is sorted by."""
        if self.kind == "weekly":
            iso_year, week = self.label.split("-W")
            return dt.date.fromisocalendar(int(iso_year), int(week), 1) + dt.timedelta(days=7)
        if self.kind == "monthly":
            year, month = (int(part) for part in self.label.split("-"))
            return dt.date(year + (month == 12), month % 12 + 1, 1)
        return dt.date.fromisoformat(self.label) + dt.timedelta(days=1)

    @property
    def readable(self) -> bool:
        return "html" in self.files or (self.kind == "digest" and self.entries > 0)


def _valid(kind: str, label: str) -> bool:
    """The label is the period its kind is named by (a name like ``weekly-2026-11.html`` is not a report)."""
    try:
        if kind == "weekly":
            year, week = label.split("-W")
            dt.date.fromisocalendar(int(year), int(week), 1)
        elif kind == "monthly":
            year, month = label.split("-")
            dt.date(int(year), int(month), 1)
        else:
            dt.date.fromisoformat(label)
    except ValueError:
        return False
    return True


def list_files(directory: Path) -> dict[str, Report]:
    """The reports in *directory* by stem: regular files whose names are a report's, nothing else."""
    found: dict[str, Report] = {}
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return found
    for entry in entries:
        match = _FILE.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        kind, label = match["kind"], match["label"]
        if not _valid(kind, label):
            continue
        report = found.setdefault(match["stem"], Report(match["stem"], kind, label))
        report.files[match["ext"]] = Path(entry.path)
    return found


def routes(site: DeskSite) -> list[BaseRoute]:
    def listing() -> dict[str, Report]:
        """Files first, then digest days only the store has."""
        found = list_files(site.reports_dir)
        with session_scope(site.sessions) as session:
            days = session.execute(select(DigestEntry.day, func.count()).group_by(DigestEntry.day)
                                   .order_by(DigestEntry.day.desc()).limit(DIGEST_DAYS)).all()
        for day, count in days:
            label = day.isoformat()
            report = found.setdefault(f"digest-{label}", Report(f"digest-{label}", "digest", label))
            report.entries = count
        return found

    def index(request: Request) -> Response:
        person = site.person(request)
        reports = sorted(listing().values(), key=lambda r: (r.ends, r.kind), reverse=True)
        return site.page(request, "reports.html.j2", person, reports=reports, kinds=KIND_NAMES)

    def show(request: Request) -> Response:
        site.person(request)
        name: str = request.path_params["name"]
        stem, dot, ext = name.rpartition(".")
        if not dot or ext not in ("html", "pdf", "csv"):
            stem, ext = name, "html"
        report = listing().get(stem)
        if report is None:
            return _not_found(request)
        path = report.files.get(ext)
        if path is None and ext == "html" and report.kind == "digest" and report.entries:
            with session_scope(site.sessions) as session:
                day = dt.date.fromisoformat(report.label)
                html = digest.render_html(digest.entries(session, day, site.playbook), day, site.clock())
            return HTMLResponse(html, headers=_REPORT_HEADERS)
        if path is None:
            return _not_found(request)
        if ext == "html":
            return HTMLResponse(path.read_text(encoding="utf-8"), headers=_REPORT_HEADERS)
        return FileResponse(path, media_type=MEDIA[ext], filename=path.name, headers=_REPORT_HEADERS)

    def _not_found(request: Request) -> Response:
        return site.page(request, "not_found.html.j2", site.person(request), status=404,
                         why=site.templates.reply("web_no_report"), back="/reports")

    return [Route("/reports", index), Route("/reports/{name}", show)]
