"""The original's top menu (R1.4): 通知公告, 政策文件 and 证书查询, read from the server's
public routes — before login (from the login screen) and after."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Input,
    Markdown,
    OptionList,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option

from zctui.data.catalog import Catalog, load_catalog
from zctui.domain.lookups import CertificateInfo, Publication
from zctui.sync.api import ApiError, ServerApi
from zctui.widgets.bindings_footer import BindingsFooter

KINDS = {"announcement": "通知公告", "policy": "政策文件"}
EMPTY = {"announcement": "暂无通知公告。", "policy": "暂无政策文件。"}


class PublicScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    PublicScreen { background: $background 60%; }
    PublicScreen TabbedContent { height: 1fr; }
    PublicScreen .list { width: 40; height: 1fr; }
    PublicScreen .body { width: 1fr; height: 1fr; padding: 0 1; }
    PublicScreen #certificate Input { width: 50; margin-bottom: 1; }
    PublicScreen #cert-result { margin-top: 1; height: auto; }
    PublicScreen .message { color: $text-muted; height: auto; }
    """
    BINDINGS = [Binding("escape", "close", "关闭", id="public-close")]

    class Loaded(Message):
        def __init__(self, kind: str, rows: list[Publication]) -> None:
            super().__init__()
            self.kind, self.rows = kind, rows

    class Found(Message):
        def __init__(self, cert: CertificateInfo) -> None:
            super().__init__()
            self.cert = cert

    class Failed(Message):
        def __init__(self, where: str, message: str) -> None:
            super().__init__()
            self.where, self.message = where, message

    def __init__(
        self, api: ServerApi, *, owns_api: bool = False, catalog: Catalog | None = None
    ) -> None:
        super().__init__()
        self.api = api
        self.owns_api = owns_api
        self.catalog = catalog or load_catalog()
        self.rows: dict[str, list[Publication]] = {k: [] for k in KINDS}

    def compose(self) -> ComposeResult:
        with TabbedContent(id="public-tabs"):
            for kind, label in KINDS.items():
                with TabPane(label, id=kind), Horizontal():
                    with Vertical(classes="list"):
                        yield Static("正在读取…", id=f"{kind}-message", classes="message")
                        yield OptionList(id=f"{kind}-list")
                    with VerticalScroll(classes="body"):
                        yield Markdown("", id=f"{kind}-body", open_links=False)
            with TabPane("证书查询", id="certificate"), Vertical():
                yield Static("输入证书编号和姓名（两项都须与证书上的一致）：")
                yield Input(placeholder="证书编号", id="cert-number")
                yield Input(placeholder="姓名", id="cert-name")
                yield Button("查询", id="cert-lookup", variant="primary")
                yield Static("", id="cert-result", markup=False)
        yield BindingsFooter()

    def on_mount(self) -> None:
        for kind in KINDS:
            self._load(kind)

    def on_unmount(self) -> None:
        if self.owns_api:
            self.api.close()

    def help_topic(self) -> tuple[str, str, str, str]:
        return ("通知公告 · 政策文件 · 证书查询", "R1.4",
                "左右切换栏目，上下选择条目；证书查询须同时输入证书编号和姓名。", "")  # fmt: skip

    # ------------------------------------------------------------------ 通知公告, 政策文件
    @work(thread=True, group="public-load")
    def _load(self, kind: str) -> None:
        read = self.api.announcements if kind == "announcement" else self.api.policies
        try:
            self.post_message(self.Loaded(kind, read()))
        except ApiError as exc:
            self.post_message(self.Failed(kind, str(exc)))

    def on_public_screen_loaded(self, event: Loaded) -> None:
        self.rows[event.kind] = event.rows
        options = self.query_one(f"#{event.kind}-list", OptionList)
        options.clear_options()
        options.add_options(
            Option(f"{p.title}\n  {p.published_at.astimezone():%Y-%m-%d}"
                   + (f" · {p.city}" if p.city else ""))
            for p in event.rows
        )  # fmt: skip
        self._message(event.kind, f"共 {len(event.rows)} 条" if event.rows else EMPTY[event.kind])
        if event.rows:
            options.highlighted = 0

    @on(OptionList.OptionHighlighted)
    def _show(self, event: OptionList.OptionHighlighted) -> None:
        kind = (event.option_list.id or "").removesuffix("-list")
        if kind not in KINDS:
            return
        p = self.rows[kind][event.option_index]
        when = f"{p.published_at.astimezone():%Y年%m月%d日}"
        md = f"# {p.title}\n\n*{when}{' · ' + p.city if p.city else ''}*\n\n{p.body}"
        self.query_one(f"#{kind}-body", Markdown).update(md)

    def _message(self, kind: str, text: str) -> None:
        self.query_one(f"#{kind}-message", Static).update(text)

    # ------------------------------------------------------------------ 证书查询
    @on(Input.Submitted, "#cert-number")
    def _next(self) -> None:
        self.query_one("#cert-name", Input).focus()

    @on(Input.Submitted, "#cert-name")
    @on(Button.Pressed, "#cert-lookup")
    def _lookup(self) -> None:
        number = self.query_one("#cert-number", Input).value.strip()
        name = self.query_one("#cert-name", Input).value.strip()
        if not number or not name:
            missing = "证书编号" if not number else "姓名"
            self._result(f"请输入{missing}：证书编号和姓名都要填写，才能查询")
            return
        self._result("正在查询…")
        self._certificate(number, name)

    @work(thread=True, exclusive=True, group="public-certificate")
    def _certificate(self, number: str, name: str) -> None:
        try:
            self.post_message(self.Found(self.api.certificate(number, name)))
        except ApiError as exc:
            self.post_message(self.Failed("certificate", str(exc)))

    def on_public_screen_found(self, event: Found) -> None:
        self._result("\n".join(self.certificate_lines(event.cert)))

    def certificate_lines(self, c: CertificateInfo) -> list[str]:
        series = self.catalog.series_by_code(c.series or "")
        specialty = series.specialty(c.specialty or "") if series else None
        title = series.title(c.title or "") if series else None
        return [
            "查到该证书：",
            f"证书编号：{c.number}",
            f"姓名：{c.name}",
            f"系列：{series.label if series else c.series or '—'}",
            f"专业：{specialty.label if specialty else c.specialty or '—'}",
            f"职称：{title.label if title else c.title or '—'}",
            f"工作单位：{c.unit_name or '—'}",
            f"发证日期：{c.issued_at.astimezone():%Y年%m月%d日}",
        ]

    def on_public_screen_failed(self, event: Failed) -> None:
        if event.where == "certificate":
            self._result(event.message)
        else:
            self._message(event.where, event.message)

    def _result(self, text: str) -> None:
        self.query_one("#cert-result", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)
