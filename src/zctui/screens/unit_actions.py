"""The keys a unit administrator has on the applicants table: grid entry, batch import, the
overview table (一览表), and with a server the review queue and the unit's accounts.

Function keys and Ctrl keys only: a letter typed on the table starts the filter (pinyin
initials), so no letter may be taken by an action."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zctui.screens.applicants import ApplicantsScreen, TableAction

if TYPE_CHECKING:
    from zctui.exchange.importer import ImportReport


def _grid(screen: ApplicantsScreen) -> None:
    """Annual appraisals of the people shown (as filtered and sorted) in one grid."""
    from zctui.screens.grid import GridScreen

    ids = screen.table.keys
    if not ids:
        screen.notify("名单中没有可录入的申报：先清除筛选或新建申报。", severity="warning")
        return

    def back(_: Any = None) -> None:
        screen.refresh_rows(set(ids))
        _reload_open_session(screen)

    screen.app.push_screen(GridScreen(screen.store, ids, section="annual_appraisal"), back)


def _import(screen: ApplicantsScreen) -> None:
    from zctui.screens.import_screen import ImportScreen

    def done(report: ImportReport | None) -> None:
        if report is None:
            return
        screen.refresh_rows(screen.table.keys)
        screen.reload()  # people the file added are new rows
        _reload_open_session(screen)

    screen.app.push_screen(ImportScreen(screen.store), done)


def _overview(screen: ApplicantsScreen) -> None:
    from zctui.screens.overview_export import OverviewExportScreen

    def done(path: Any) -> None:
        if path is not None:
            screen.notify(f"一览表已导出：{path}", timeout=8)

    screen.app.push_screen(OverviewExportScreen(screen.store), done)


def _review(screen: ApplicantsScreen) -> None:
    from zctui.screens.review_queue import ReviewQueueScreen

    screen.app.push_screen(ReviewQueueScreen(screen.app.api), lambda _: screen.reload())  # type: ignore[attr-defined]


def _accounts(screen: ApplicantsScreen) -> None:
    from zctui.screens.unit_accounts import UnitAccountsScreen

    screen.app.push_screen(UnitAccountsScreen(screen.app.api))  # type: ignore[attr-defined]


def _reload_open_session(screen: ApplicantsScreen) -> None:
    session = getattr(screen.app, "session", None)
    if session is not None:
        session.reload()


LOCAL_ACTIONS = [
    TableAction("applicants-grid", "f6", "表格录入考核", _grid),
    TableAction("applicants-import", "f8", "批量导入", _import),
    TableAction("applicants-overview", "ctrl+o", "导出一览表", _overview),
]


SERVER_ACTIONS = [
    TableAction("applicants-review", "f2", "审核列表", _review),
    TableAction("applicants-accounts", "ctrl+t", "本单位帐号", _accounts),
]


def unit_actions(app: Any) -> list[TableAction]:
    """The table's keys for a unit administrator; review and accounts only when logged in to
    a server (they are the server's)."""
    online = getattr(app, "api", None) is not None and getattr(app, "role", None) == "unit_admin"
    return LOCAL_ACTIONS + (SERVER_ACTIONS if online else [])
