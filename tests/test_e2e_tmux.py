"""End to end in a real terminal: the installed `zctui` command inside tmux, driven by keys.

A person's whole application, from an empty workspace to 提交审核, then a crash mid-edit.
Every step waits for what the screen shows (`capture-pane`), never for a fixed time, and
checks the SQLite file from outside as it goes: what the screen says is saved, is.

Problems the app should not have (F2 skipping an item, Esc not closing a record dialog …)
are collected while the flow goes on as a person would go on, and fail the test at the end,
so one run reports all of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from conftest import need
from zctui.demo import build_complete, tiny_pdf, tiny_photo
from zctui.domain.checklist import run_checklist
from zctui.store.blobs import BlobStore
from zctui.store.repository import Store
from zctui.widgets.save_state import SAVED, SAVING

ZCTUI = Path(sys.executable).parent / "zctui"
WIDTH, HEIGHT = 120, 40
ANSI = re.compile(r"\x1b\[[0-9;:]*m")
# Textual's focus highlight ($accent 30 %) in its default theme, as xterm-256color shows it.
FOCUS_BG = re.compile(r"\x1b\[(?:[0-9;]*;)?48;5;58(?:;[0-9;]*)?m")
TREE_CURSOR_BG = "48;5;32m"  # the focused tree's cursor line
EXITED = "[zctui exited: "
TOAST_EDGE = "▌"  # the left edge of a notification
SIDEBAR_EDGE = "▕"  # the right edge of the checklist sidebar

PERSON = ("杨丰", "130902198010100011", "2026", "沧州市中西医结合医院", "沧州市")
SUMMARY = [
    "本人自2004年参加工作以来，一直从事中医外科临床工作，热爱本职，恪守医德。",
    "擅长运用中医药治疗疮疡、乳腺病、周围血管病及肛肠疾病。",
    "在省级以上期刊发表论文两篇，参与市级科研课题一项。",
]
EXPERIENCE = "长期在中医外科临床一线工作，年均门诊量六千余人次，独立处理本专业疑难病例。"


# ---------------------------------------------------------------------------- what to type
@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Pick:
    """A select: type `query` (characters or pinyin initials), Enter picks `label`."""

    query: str
    label: str


@dataclass(frozen=True)
class Lines:
    """A text area: its lines, and the counter it shows once they are typed."""

    lines: tuple[str, ...]
    counter: str


@dataclass(frozen=True)
class File:
    name: str


Fill = Text | Pick | Lines | File

# The guide's example (卫生类 / 中医系列-中医 / 中医外科 / 副主任医师), as zctui.demo builds it.
# Key: (title of the list section, or "" for a single-row section; label of field or slot).
VALUES: dict[tuple[str, str], Fill] = {
    # R2 个人申报设置
    ("", "申报类别"): Pick("wsl", "卫生类"),
    ("", "申报系列"): Pick("zyxl", "中医系列-中医"),
    ("", "申报专业"): Pick("zywk", "中医外科"),
    ("", "申报职称"): Pick("副主任", "副主任医师"),
    ("", "申报方式"): Pick("zcsb", "正常申报"),
    ("", "评审方式"): Pick("ps", "评审"),
    # R3 个人基本信息
    ("", "姓名"): Text("杨丰"),
    ("", "证件类型"): Pick("jmsfz", "居民身份证(户口簿)"),
    ("", "证件号码"): Text("130902198010100011"),
    ("", "性别"): Pick("男", "男"),
    ("", "民族"): Pick("汉", "汉族"),
    ("", "出生日期"): Text("1980-10-10"),
    ("", "政治面貌"): Pick("zgdy", "中共党员"),
    ("", "手机号码"): Text("13831712345"),
    ("", "工作总结摘要"): Lines(tuple(SUMMARY), f"{len(SUMMARY)}/17 行"),
    ("", "工作总结附件"): File("summary.pdf"),
    ("", "申报人照片"): File("photo.png"),
    ("", "社保缴费证明"): File("social_security.pdf"),
    # R4 申报人现状
    ("", "现档案存放单位"): Text("沧州市人才交流服务中心"),
    ("", "现工作单位类型"): Pick("sydw", "事业单位"),
    ("", "现工作单位人事部门电话"): Text("0317-2123400"),
    ("", "现从事专业"): Text("中医外科"),
    ("", "是否有职称"): Pick("s", "是"),
    ("", "现职称类别"): Pick("wsl", "卫生类"),
    ("", "现职称系列"): Pick("zyxl", "中医系列-中医"),
    ("", "现职称专业"): Pick("zywk", "中医外科"),
    ("", "现职称名称"): Pick("主治", "主治医师"),
    ("", "现职称取得时间"): Text("2018-12-20"),
    # R5 申报基础材料
    ("", "申报材料真实性承诺书"): File("m01_pledge.pdf"),
    ("", "职业道德评价表"): File("m02_ethics.pdf"),
    ("", "申报晋升人员量化评分推荐排名表"): File("m03_ranking.pdf"),
    ("", "申报单位推荐公示证明"): File("m04_publicity.pdf"),
    ("", "医德医风考核表"): File("m07_medical_ethics.pdf"),
    ("", "其他申报材料"): File("m15_other.pdf"),
    # R7 学习经历 / 工作履历 / 现任职称证书 / 考评结合
    ("学习经历", "学历类别"): Pick("参评", "参评学历"),
    ("学习经历", "毕业院校"): Text("河北中医学院"),
    ("学习经历", "所学专业"): Text("中医学"),
    ("学习经历", "学历"): Pick("dxbk", "大学本科"),
    ("学习经历", "学历来源"): Pick("gnpt", "国内普通高校"),
    ("学习经历", "毕业时间"): Text("2004-07"),
    ("学习经历", "学信网验证码"): Text("A3K9P2M7Q4T8"),
    ("学习经历", "毕业证书"): File("diploma.pdf"),
    ("学习经历", "教育部学历证书电子注册备案表"): File("chsi_record.pdf"),
    ("工作履历", "开始时间"): Text("2004-08"),
    ("工作履历", "工作单位"): Text("沧州市中西医结合医院"),
    ("工作履历", "职务/岗位"): Text("中医外科医师"),
    ("现专业技术职务任职资格证书", "证书类别"): Pick("xrzc", "现任职称证书"),
    ("现专业技术职务任职资格证书", "类别"): Pick("wsl", "卫生类"),
    ("现专业技术职务任职资格证书", "系列"): Pick("zyxl", "中医系列-中医"),
    ("现专业技术职务任职资格证书", "专业"): Pick("zywk", "中医外科"),
    ("现专业技术职务任职资格证书", "职称"): Pick("主治", "主治医师"),
    ("现专业技术职务任职资格证书", "取得时间"): Text("2018-12-20"),
    ("现专业技术职务任职资格证书", "证书"): File("title_certificate.pdf"),
    ("考评结合专业考试合格证书（成绩单）", "类别"): Pick("wsl", "卫生类"),
    ("考评结合专业考试合格证书（成绩单）", "系列"): Pick("zyxl", "中医系列-中医"),
    ("考评结合专业考试合格证书（成绩单）", "专业"): Pick("zywk", "中医外科"),
    ("考评结合专业考试合格证书（成绩单）", "对应职称"): Pick("副主任", "副主任医师"),
    ("考评结合专业考试合格证书（成绩单）", "证书取得时间"): Text("2025-06-30"),
    ("考评结合专业考试合格证书（成绩单）", "考试年度"): Text("2025"),
    ("考评结合专业考试合格证书（成绩单）", "成绩有效期"): Text("2028-12-31"),
    ("考评结合专业考试合格证书（成绩单）", "证书"): File("exam_certificate.pdf"),
    # R8 年度考核 / 专业技术工作经历
    ("任现职以来年度考核", "考核档次"): Pick("hg", "合格"),
    ("任现职以来年度考核", "年度考核表"): File("appraisal.pdf"),
    ("专业技术工作经历", "开始时间"): Text("2019-01"),
    ("专业技术工作经历", "截止时间"): Text("2025-12"),
    ("专业技术工作经历", "经历内容"): Lines((EXPERIENCE,), f"{len(EXPERIENCE)}/500"),
    # R9 其他业绩材料（卫生系列的病例分析，R9.7）
    ("其他业绩材料", "材料类型"): Pick("blfx", "病例分析"),
    ("其他业绩材料", "材料名称"): Text("中医外科病例分析（1）"),
    ("其他业绩材料", "材料"): File("case_analysis.pdf"),
    # R11 一览表补充信息
    ("", "行政职务"): Text("无"),
    ("", "现专业技术职务任职资格"): Text("主治医师"),
    ("", "申报评审专业技术职务任职资格"): Text("副主任医师"),
    ("", "参加工作时间"): Text("2004-08"),
    ("", "身体状况"): Pick("jk", "健康或良好"),
    ("", "量化评分推荐排名-得分"): Text("86.5"),
    ("", "量化评分推荐排名-得分排序"): Text("2"),
    ("", "量化评分推荐排名-单位共推荐"): Text("5"),
}

# Selects whose choices follow the one above (类别 → 系列 → 专业/职称, R2.2): filled top-down.
CHAINS: dict[str, tuple[str, ...]] = {
    "申报": ("申报类别", "申报系列", "申报专业", "申报职称"),
    "现职称": ("现职称类别", "现职称系列", "现职称专业", "现职称名称"),
    "现专业技术职务任职资格证书": ("类别", "系列", "专业", "职称"),
    "考评结合专业考试合格证书（成绩单）": ("类别", "系列", "专业", "对应职称"),
}

# A list section's "add one" items (no record yet): the record to add, and its first field.
ADD: list[tuple[re.Pattern[str], str, str, Callable[[re.Match[str]], Fill]]] = [
    (re.compile(r"缺少参评学历"), "学习经历", "学历类别", lambda m: Pick("参评", "参评学历")),
    (re.compile(r"至少填写一条工作履历"), "工作履历", "开始时间", lambda m: Text("2004-08")),
    (re.compile(r"缺少现专业技术职务任职资格证书"), "现专业技术职务任职资格证书", "证书类别",
     lambda m: Pick("xrzc", "现任职称证书")),
    (re.compile(r"考评结合专业需录入"), "考评结合专业考试合格证书（成绩单）", "类别",
     lambda m: Pick("wsl", "卫生类")),
    (re.compile(r"缺少(\d{4})年度考核"), "任现职以来年度考核", "考核年度",
     lambda m: Text(m.group(1))),
    (re.compile(r"至少填写一条符合评审条件的专业技术工作经历"), "专业技术工作经历", "开始时间",
     lambda m: Text("2019-01")),
    (re.compile(r"病例分析"), "其他业绩材料", "材料类型", lambda m: Pick("blfx", "病例分析")),
]  # fmt: skip
# A record's rule that names no field or slot: the slot that settles it.
RECORD_RULES: dict[str, tuple[str, str]] = {
    "请上传考评结合专业考试合格证书或成绩单（至少一项）": (
        "考评结合专业考试合格证书（成绩单）",
        "证书",
    ),
}
ITEM = re.compile(
    r"^\[(?P<rule>R[\d.]+)\](?:第(?P<index>\d+)条(?P<section>[^：]+)：)?"
    r"(?:请(?P<verb>填写|选择|上传)(?P<label>.+))?"
)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def identify(shown: str, errors: list[str], focused: str) -> str | None:
    """The missing item a notification names: exactly, or as much of it as is legible (it
    may be cut off, or lose a wide character where it wraps), the focused field deciding."""
    if shown in errors:
        return shown

    def legible(whole: str) -> bool:
        if whole.startswith(shown):
            return True
        rest = iter(whole)  # `shown` is `whole` with a character or two missing
        return len(whole) - len(shown) <= 2 and all(ch in rest for ch in shown)

    found = [e for e in errors if legible(e) or legible(e.split("]", 1)[-1])]
    if len(found) > 1:
        found = [
            e for e in found if (m := ITEM.match(e)) and m["label"] and m["label"][:5] in focused
        ]
    return found[0] if len(found) == 1 else None


# ---------------------------------------------------------------------------- the terminal
class Terminal:
    """One tmux server of our own (its own socket): one session, one window, 120×40."""

    def __init__(self, name: str) -> None:
        self.socket = f"zctui-e2e-{os.getpid()}-{name}-{uuid.uuid4().hex[:6]}"
        self.socket_path = ""
        self.session = "zctui"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
        }

    def tmux(self, *args: str, check: bool = True) -> str:
        cmd = ["tmux", "-u", "-f", "/dev/null", "-L", self.socket, *args]
        out = subprocess.run(
            cmd, capture_output=True, text=True, env=self.env, timeout=15, check=False
        )
        if check and out.returncode != 0:
            raise RuntimeError(f"{shlex.join(cmd)}: {out.stderr.strip()}")
        return out.stdout

    def start(self, *argv: str, program: tuple[str, ...] = ()) -> None:
        """Run `zctui argv…` (or `program argv…`) in a fresh terminal with a clean, fixed
        environment."""
        command = shlex.join(
            ["env", "-i", *(f"{k}={v}" for k, v in self.env.items()),
             "TERM=xterm-256color", *(program or (str(ZCTUI),)), *argv]
        ) + f'; echo "{EXITED}$?]"'  # fmt: skip
        self.tmux(
            "start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";",
            "new-session", "-d", "-x", str(WIDTH), "-y", str(HEIGHT), "-s", self.session, command,
        )  # fmt: skip
        self.socket_path = self.tmux("display-message", "-p", "#{socket_path}").strip()

    def kill(self) -> None:
        """End our tmux server (zctui gets SIGHUP) and remove its socket."""
        self.tmux("kill-server", check=False)
        if self.socket_path:
            Path(self.socket_path).unlink(missing_ok=True)

    # -- reading the screen
    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def history(self) -> str:
        """The screen and what scrolled off it (a traceback, the exit status)."""
        return self.tmux("capture-pane", "-p", "-S", "-200", "-t", self.session)

    def lines(self) -> list[str]:
        return self.screen().splitlines()

    def coloured(self) -> list[str]:
        return self.tmux("capture-pane", "-p", "-e", "-t", self.session).splitlines()

    def dead(self) -> str | None:
        """zctui's exit status once it has ended: the shell prints it, and tmux keeps the
        pane (with its history) open."""
        found = re.search(re.escape(EXITED) + r"(\d+)\]", self.history())
        return found[1] if found else None

    def focused(self) -> str:
        """The line of the focused widget: Textual paints it with the focus background, or
        (a text area) draws a tall border whose top is on the label's line."""
        lines = self.coloured()
        for line in lines:
            if FOCUS_BG.search(line):
                return ANSI.sub("", line)
        plain = [ANSI.sub("", line) for line in lines]
        return next((line for line in plain if "▊▔" in line), "")

    def button_focused(self, label: str) -> bool:
        """A focused button shows its label in reverse video."""
        pattern = re.compile(r"\x1b\[1;7m(?:\x1b\[[0-9;]*m)*\s*" + re.escape(label))
        return any(pattern.search(line) for line in self.coloured())

    def tree_cursor(self) -> str:
        """The sidebar line under the tree cursor, once the tree has the focus (the cursor
        line has its own background then)."""
        for line in self.coloured()[1:-1]:
            left = line.split(SIDEBAR_EDGE)[0]
            if TREE_CURSOR_BG in left:
                return ANSI.sub("", left)
        return ""

    def toasts(self) -> list[str]:
        """Notifications on screen, oldest first, each as one squashed string."""
        out: list[str] = []
        block: list[str] = []
        for line in [*self.lines(), ""]:
            text = (
                line.rsplit(TOAST_EDGE, 1)[1].strip().rstrip("│").strip()
                if TOAST_EDGE in line
                else ""
            )
            if text:
                block.append(text)
            elif block and (TOAST_EDGE in line or not line):
                out.append(squash("".join(block)))
                block = []
        return out

    def newest_toast(self) -> str:
        found = self.toasts()
        return found[-1] if found else ""

    # -- typing
    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.session, "-l", text)

    def press(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.session, *keys)

    # -- waiting
    def poll(self, ok: Callable[[], object], timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if ok():
                return True
            time.sleep(0.03)
        return bool(ok())

    def wait(self, ok: Callable[[], object], what: str, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        tries = 0
        while time.monotonic() < end:
            if ok():
                return
            tries += 1
            if tries % 10 == 0 and (status := self.dead()) is not None:
                pytest.fail(f"zctui exited (status {status}) waiting for {what}:\n{self.history()}")
            time.sleep(0.03)
        pytest.fail(f"timed out after {timeout}s waiting for {what}; the screen:\n{self.screen()}")

    def wait_for(self, text: str, timeout: float = 10.0) -> str:
        self.wait(lambda: text in self.screen(), repr(text), timeout)
        return self.screen()

    def changed(self, read: Callable[[], str], before: str, timeout: float = 2.0) -> bool:
        """Poll until `read()` is no longer `before` (the focus or a cursor moved)."""
        return self.poll(lambda: read() != before, timeout)

    def wait_focus(self, text: str, timeout: float = 10.0) -> str:
        self.wait(lambda: text in self.focused(), f"focus on {text!r}", timeout)
        return self.focused()


# ---------------------------------------------------------------------------- the workspace
class Workspace:
    """The SQLite file, read from outside (read-only) while zctui writes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            engine = create_engine(
                f"sqlite:///file:{self.path}?mode=ro&uri=true", connect_args={"timeout": 10}
            )
            self._store = Store(self.path, engine=engine)
        return self._store

    def app_id(self) -> uuid.UUID:
        [app] = self.store.applications()
        return app.id

    def last_change(self) -> int:
        """The newest outbox entry: every saved edit writes one."""
        with contextlib.closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
            (seq,) = db.execute("SELECT coalesce(max(seq), 0) FROM outbox").fetchone()
        return int(seq)

    def quiet(self, term: Terminal, settle: float = 0.08, timeout: float = 10.0) -> None:
        """Wait until nothing more is being written: the outbox stays still for `settle`
        seconds (the screen's 已保存 is checked on its own in the crash test)."""
        end = time.monotonic() + timeout
        last = self.last_change()
        while time.monotonic() < end:
            time.sleep(settle)
            now = self.last_change()
            if now == last:
                return
            last = now
        pytest.fail(f"zctui kept writing for {timeout}s:\n{term.screen()}")

    def errors(self) -> list[str]:
        data = self.store.load(self.app_id())
        return [squash(f"[{i.rule}] {i.message}") for i in run_checklist(data).errors]

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


@dataclass
class Run:
    term: Terminal
    ws: Workspace
    files: Path
    problems: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    skips: list[str] = field(default_factory=list)
    shown: str = ""
    kinds: set[str] = field(default_factory=set)

    def problem(self, text: str, kind: str | None = None) -> None:
        """One entry per kind of problem (the first example)."""
        kind = kind or text
        if kind not in self.kinds:
            self.kinds.add(kind)
            self.problems.append(text)
            print(f"\nAPP PROBLEM: {text}", flush=True)

    # -- one field, one select, one text, one file
    def fill(self, label: str, fill: Fill) -> None:
        t = self.term
        if isinstance(fill, File):  # an attachment line: 📎, * if required, the label
            t.wait(
                lambda: re.search(f"📎[* ]{re.escape(label)}  ", t.focused()), f"focus on {label}"
            )
        line = t.wait_focus(label[:5])
        if isinstance(fill, Text):
            t.type(fill.value)
            t.wait_focus(fill.value[-12:])
        elif isinstance(fill, Pick):
            self.pick(fill)
        elif isinstance(fill, Lines):
            for i, text in enumerate(fill.lines):
                if i:
                    t.press("Enter")
                t.type(text)
            t.wait_for(fill.counter)
        else:
            self.attach(label, fill, line)

    def pick(self, fill: Pick) -> None:
        t = self.term

        def offered() -> bool:  # the first choice under the field is the one we want
            lines = t.lines()
            focus = t.focused()
            at = next((i for i, ln in enumerate(lines) if ln.rstrip() == focus.rstrip()), -1)
            return 0 <= at < len(lines) - 1 and fill.label in lines[at + 1]

        t.type(fill.query)
        t.wait(offered, f"{fill.label!r} offered for {fill.query!r}")
        t.press("Enter")
        t.wait(
            lambda: (
                fill.label in t.focused()
                and (fill.query in fill.label or fill.query not in t.focused())
                and not offered()
            ),
            f"{fill.label!r} chosen",
        )

    def attach(self, label: str, fill: File, line: str) -> None:
        t = self.term
        assert "📎" in line, f"focus is not on the slot {label}: {line!r}"
        t.press("Enter")
        t.wait_for(f"{label}  [R")
        t.wait_for("回车添加")
        t.type(str(self.files / fill.name))
        t.press("Enter")
        t.wait_for(f"{fill.name}  1 KB")
        t.press("Escape")
        t.wait_for(f"{label}  1 个文件：{fill.name}")

    # -- record dialogs
    def close_record(self, title: str) -> None:
        """Esc closes the record dialog (everything is saved as typed)."""
        t = self.term
        head = f"条{title}  [R"
        for attempt in range(8):
            before = t.focused()
            t.press("Escape")
            if t.poll(lambda: head not in t.screen(), 1.5):
                return
            if attempt == 0:
                self.problem(
                    f"Esc does not close the record dialog 「{title}」 while the focus is on a "
                    f"select ({squash(before.strip(' │'))!r}); a person has to Tab to another "
                    "field first (PinyinSelect binds escape unconditionally)",
                    kind="esc",
                )
            t.press("Tab")  # go on as a person would: leave the select, try again
            t.changed(t.focused, before)
        pytest.fail(f"the record dialog {title} does not close:\n{t.screen()}")

    def tab_to(self, line: re.Pattern[str]) -> None:
        tab_to(self.term, line)

    def chain_of(self, section: str, label: str) -> tuple[str, ...] | None:
        for key, chain in CHAINS.items():
            if label in chain and (key == section or (not section and label.startswith(key))):
                return chain
        return None

    def fill_chain(self, section: str, chain: tuple[str, ...], label: str) -> None:
        """A select further down a cascade: go up to its head and choose top-down."""
        t = self.term
        for name in reversed(chain[: chain.index(label)]):
            t.press("BTab")
            t.wait_focus(name[:5])
        for i, name in enumerate(chain):
            if i:
                t.press("Tab")
            self.fill(name, VALUES[(section, name)])

    # -- F2
    def next_missing(self) -> str:
        """F2; returns the item it announces (squashed, as the checklist words it: `[rule]
        message`), or '' when nothing is missing."""
        t = self.term
        before = t.newest_toast()

        def announced() -> str | None:
            now = t.newest_toast()
            if now == before or not now or now in self.visited:
                return None  # not F2's answer yet (an earlier notification shown again)
            if now.startswith("没有缺项"):
                return ""
            errors = self.ws.errors()  # the last edit may still be on its way to the disk
            item = identify(now, errors, t.focused())
            if item is None:
                return None
            self.shown = now
            if now == item.split("]", 1)[-1]:
                self.problem(
                    f"F2's notification drops the rule id: it shows {now!r} for {item!r} "
                    "(`[R5]` is read as Textual markup: notify(..., markup=False) in "
                    "MainScreen.go_to)",
                    kind="rule id dropped",
                )
            return item

        t.press("F2")
        t.wait(lambda: announced() is not None, "F2's notification")
        found = announced()
        assert found is not None
        return found

    def settle(self, item: str, timeout: float = 10.0) -> None:
        """The fix is in the file: the item is gone from the checklist read from disk."""
        self.term.wait(lambda: item not in self.ws.errors(), f"{item} to be saved", timeout)

    def handle(self, item: str) -> None:
        t = self.term
        m = ITEM.match(item)
        assert m, f"F2 announced something unexpected: {item}"
        section, label = m["section"] or "", m["label"]
        message = item.split("]", 1)[1].split("：", 1)[-1]
        if section and (slot := RECORD_RULES.get(message)):
            # F2 lands on the list: open the record and go to the slot that settles the rule.
            title, slot_label = slot
            t.press("Enter")
            t.wait_for(f"第{m['index']}条{title}  [R")
            self.tab_to(re.compile(f"📎[* ]{re.escape(slot_label)}  "))
            self.fill(slot_label, VALUES[(title, slot_label)])
            self.close_record(title)
            return
        if label is not None:
            key = (section, label)
            fill = VALUES.get(key)
            assert fill is not None, f"no value for {key} (F2 said {item})"
            if section:
                t.wait_for(f"第{m['index']}条{section}  [R")
            chain = self.chain_of(section, label)
            if chain is not None and isinstance(fill, Pick):
                self.fill_chain(section, chain, label)
            else:
                self.fill(label, fill)
            if section:
                self.close_record(section)
            return
        for pattern, title, first, value in ADD:
            if found := pattern.search(item):
                # F2 lands on the (empty) list: `a` adds a record, its dialog opens on field 1.
                t.press("a")
                t.wait_for(f"条{title}  [R")
                self.fill(first, value(found))
                self.close_record(title)
                return
        pytest.fail(f"no way to settle {item}:\n{t.screen()}")

    def finish_with_f2(self, limit: int = 160) -> int:
        """F2 until nothing is missing; each item as the product announces it."""
        previous: list[str] = []
        last: str | None = None
        t = self.term
        for n in range(limit):
            self.ws.quiet(t)
            errors = self.ws.errors()  # nothing is pending: the file is what the app holds
            item = self.next_missing()
            if not item:
                assert not errors, f"F2 says nothing is missing, the file says {errors}"
                if self.skips:
                    self.problem(
                        f"F2 skips the item after the one just settled ({len(self.skips)} times "
                        f"in {n} presses), e.g. {self.skips[0]}"
                    )
                return n
            assert item in errors, f"F2 announced {item}, which the checklist does not list"
            if last is not None and last in previous:
                after = previous[previous.index(last) + 1 :]
                expected = next((e for e in after if e in errors), None)
                if expected and set(errors) <= set(previous) and item != expected:
                    self.skips.append(f"after {last} F2 went to {item}, passing over {expected}")
            self.visited.append(item)
            print(f"F2 → {item}" + ("" if self.shown == item else f"  (shown: {self.shown})"))
            self.handle(item)
            self.settle(item)
            previous, last = errors, item
        pytest.fail(f"still missing after {limit} F2 presses: {self.ws.errors()}")


# ---------------------------------------------------------------------------- helpers
def zctui(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "ZCTUI_"))}
    return subprocess.run(
        [str(ZCTUI), *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )


def zctui_pids(db: Path) -> list[int]:
    """Processes of the zctui command working on `db` (ours alone: the path is unique)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if any(a.endswith(b"zctui") for a in argv[:2]) and os.fsencode(db) in argv:
                pids.append(int(proc.name))
    return pids


def make_files(folder: Path) -> None:
    folder.mkdir()
    for fill in VALUES.values():
        if isinstance(fill, File):
            data = tiny_photo() if fill.name.endswith(".png") else tiny_pdf(fill.name)
            (folder / fill.name).write_bytes(data)


def new_application(t: Terminal) -> None:
    """The empty workspace asks who applies: Enter goes to the next field, then creates.
    (Year and city come filled in: typing replaces them.)"""
    t.wait_for("新建申报")
    shown = ["姓名", "身份证号", "2026", "申报单位", "沧州市"]  # placeholder or value
    for field_text, value in zip(shown, PERSON, strict=True):
        t.wait_focus(field_text)  # Enter moved the focus here: type only now
        t.type(value)
        t.wait_focus(value)
        t.press("Enter")
    t.wait_for("个人申报设置")


def tab_to(t: Terminal, line: re.Pattern[str], limit: int = 30) -> None:
    """Tab until the focused line matches."""
    for _ in range(limit):
        before = t.focused()
        if line.search(before):
            return
        t.press("Tab")
        t.changed(t.focused, before)
    pytest.fail(f"Tab never reached {line.pattern}:\n{t.screen()}")


def open_in_sidebar(t: Terminal, label: str) -> None:
    """Ctrl+B, then ↓ (or ↑) to the line and Enter."""
    t.press("C-b")
    t.wait(lambda: t.tree_cursor() != "", "the sidebar to take the focus")
    for key in ("Down", "Up"):
        for _ in range(40):
            if label in t.tree_cursor():
                t.press("Enter")
                return
            before = t.tree_cursor()
            t.press(key)
            if not t.changed(t.tree_cursor, before, 1.0):
                break  # the first or last line
    pytest.fail(f"{label} not found in the sidebar:\n{t.screen()}")


@contextlib.contextmanager
def terminal(name: str) -> Iterator[Terminal]:
    t = Terminal(name)
    try:
        yield t
    finally:
        t.kill()


# ---------------------------------------------------------------------------- the test
@pytest.mark.slow
def test_whole_application_in_a_real_terminal_then_a_crash(tmp_path: Path) -> None:
    """From an empty workspace to a submitted application, in tmux, by keys alone:

    R1  an empty workspace asks who applies (身份证号 as the account) and for which year;
    R2  个人申报设置: 类别 → 系列 → 专业 → 职称 cascade, filtered by pinyin initials, 申报方式,
        评审方式 (R2.5: 评审 for this unit);
    R3  个人基本信息, 工作总结摘要, photo and 工作总结附件, 社保缴费证明 (R3.2);
    R4  申报人现状 with 现职称 (cascade again) and its date;
    R5  the required 申报基础材料 (1–4, 医德医风考核表 for health, 15 其他申报材料);
    R6  申报信息 generated from R2, read-only;
    R7  参评学历 with its 学信网验证码 and files, 工作履历, 现任职称证书, 考评结合 (卫生高级);
    R8  five years of 年度考核 with their forms, one 专业技术工作经历;
    R9  a 病例分析 (R9.7, health series); R10 stays optional (–);
    R11 一览表补充信息;
    R12 提交审核 once complete, confirmed, after which the application is read-only.

    F2 finds every missing item; `zctui check` agrees from outside. Then a crash: a value
    typed into a field survives kill-server and SIGKILL of the zctui process.
    """
    need(shutil.which("tmux") is not None, "tmux not installed")
    need(ZCTUI.exists(), f"{ZCTUI} not installed")
    started = time.monotonic()
    make_files(tmp_path / "files")
    db = tmp_path / "ws.sqlite3"
    ws = Workspace(db)
    problems: list[str] = []
    try:
        with terminal("main") as t:
            run = Run(t, ws, tmp_path / "files", problems)
            t.start("--db", str(db), "--full-motion")

            # R1: an empty workspace: who applies, for which year.
            new_application(t)
            [app] = ws.store.applications()
            assert (app.year, app.unit_name, app.city) == (2026, PERSON[3], PERSON[4])

            # R2: the settings, top-down with Tab; the cascade filters by pinyin initials.
            t.wait_focus("申报类别")
            for i, label in enumerate(("申报类别", "申报系列", "申报专业", "申报职称",
                                       "申报方式", "评审方式")):  # fmt: skip
                if i:
                    t.press("Tab")
                run.fill(label, VALUES[("", label)])
            t.wait_for("✓ 2 个人申报设置")
            app = ws.store.applications()[0]
            assert (app.category, app.series, app.specialty, app.title) == (
                "ws", "230.zy", "02", "232",
            )  # fmt: skip
            assert (app.method, app.review_mode) == ("normal", "review")

            # Next and previous section.
            t.press("C-PageDown")
            t.wait_for("*证件类型")
            t.press("C-PageUp")
            t.wait_for("*申报类别")

            # R6: generated from R2, read-only.
            open_in_sidebar(t, "6 申报信息")
            t.wait_for("申报专业：中医外科")
            t.wait_for("申报职称等级：副高级")

            # R3–R11: F2 to every missing item until nothing is missing.
            presses = run.finish_with_f2()
            print(f"\nF2 settled {presses} items in {time.monotonic() - started:.0f}s")

            # R12: complete, says step 12; and `zctui check` from outside.
            open_in_sidebar(t, "12 提交审核")
            t.wait_for("全部完成，可以提交")
            assert "– 10 论文论著" in t.screen()  # optional, left empty
            check = zctui("--db", str(db), "check")
            assert check.returncode == 0, check.stdout + check.stderr
            assert "完成，可以提交" in check.stdout

            # Submit: Ctrl+T, then Tab to 确认提交 and Enter.
            t.press("C-t")
            t.wait_for("确认提交")
            t.wait(lambda: t.button_focused("取消"), "取消 to have the focus")
            t.press("Tab")
            t.wait(lambda: t.button_focused("确认提交"), "确认提交 to have the focus")
            t.press("Enter")
            t.wait_for("已提交：等待用人单位审核")
            t.wait_for("已提交，待单位审核")
            t.wait(lambda: ws.store.applications()[0].state == "submitted", "state in the file")
            checked = zctui("--db", str(db), "check", "--json")
            assert checked.returncode == 0, checked.stdout + checked.stderr
            [report] = json.loads(checked.stdout)
            assert report["complete"] is True and report["name"] == "杨丰"
            if "state" in report:
                assert report["state"] == "submitted"

            # R12.2: read-only from now on.
            t.press("C-PageUp")
            t.wait_for("申报已提交，用人单位审核期间不能修改")

            t.press("C-q")
            if not t.poll(lambda: t.dead() is not None, 10):
                pytest.fail(f"Ctrl+Q: zctui did not quit:\n{t.screen()}")
            assert t.dead() == "0", t.screen()
        ws.close()

        crash_mid_edit(tmp_path, problems)
    finally:
        ws.close()
    print(f"\nwhole run: {time.monotonic() - started:.0f}s")
    assert not problems, "app problems met on the way:\n- " + "\n- ".join(problems)


def crash_mid_edit(tmp_path: Path, problems: list[str]) -> None:
    """Type into a field and, the moment the value is on screen, kill the terminal (tmux
    kill-server: the app gets SIGHUP and saves what is queued); or, the moment the screen
    says 已保存, SIGKILL the zctui process (nothing can run after SIGKILL, so the promise to
    keep is the one on screen). Either way the value is in the file."""
    db = tmp_path / "crash.sqlite3"
    cases = [
        ("kill-server", "姓名", "杨丰", "name"),
        ("SIGKILL", "手机号码", "13831712345", "mobile"),
    ]
    for how, label, value, column in cases:
        with terminal(how) as t:
            t.start("--db", str(db), "--full-motion")
            if how == "kill-server":
                new_application(t)  # the first run: an empty workspace
            t.wait_for("个人申报设置")
            t.press("C-PageDown")  # 个人基本信息
            t.wait_for(f"*{label}")
            tab_to(t, re.compile(re.escape(f"*{label}")))
            pids = zctui_pids(db)
            assert pids, "the zctui process is not running"
            sent = time.monotonic()
            t.type(value)
            t.wait_focus(value)  # on screen: the app has it
            shown = time.monotonic() - sent
            if how == "SIGKILL":
                t.wait_for(SAVED)
                shown = time.monotonic() - sent
            header = SAVED if SAVED in t.screen() else SAVING if SAVING in t.screen() else "?"
            if how == "SIGKILL":
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
            t.kill()
            assert t.poll(lambda: not zctui_pids(db), 10), f"zctui still running after {how}"
        with sqlite3.connect(db) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with Store(db) as store:
            [app] = store.applications()
            basic = store.load(app.id).singles.get("basic_info")
            got = getattr(basic, column, None) if basic is not None else None
        print(f"\n{how} {shown * 1000:.0f} ms after typing {label}={value!r} "
              f"(saving state: {header}): the file has {got!r}")  # fmt: skip
        if got != value:
            problems.append(
                f"typed {label}={value!r}; on screen after {shown * 1000:.0f} ms with the saving "
                f"state {header!r}; killed ({how}) at once; the file has {got!r}"
            )


def test_keys_typed_ahead_land_in_their_fields(tmp_path: Path) -> None:
    """Over a slow link keys arrive in bursts: a whole new application typed in one burst
    (Enter between fields), then "甲 Tab Tab 1309…" in 基本信息 (R3.1): each value lands in
    its own field."""
    need(shutil.which("tmux") is not None, "tmux is not installed")
    db = tmp_path / "ahead.sqlite3"
    with terminal("ahead") as t:
        t.start("--db", str(db), "--full-motion")
        t.wait_for("新建申报")
        burst = ["杨丰", "Enter", "130902198010100011", "Enter", "Enter"]
        burst += ["沧州市中西医结合医院", "Enter", "Enter"]
        t.tmux("send-keys", "-t", t.session, *burst)  # one write to the terminal
        t.wait_for("个人申报设置")
        t.press("C-PageDown")
        t.wait_focus("*姓名")
        t.tmux("send-keys", "-t", t.session, "甲", "Tab", "Tab", "130902198010100011")
        t.wait(lambda: "130902198010100011" in t.screen(), "the ID number on screen")
        t.press("C-q")
        assert t.poll(lambda: t.dead() is not None, 10), t.screen()
    with Store(db) as store:
        [app] = store.applications()
        data = store.load(app.id)
        basic = data.singles["basic_info"]
    assert data.person is not None and data.person.id_number == "130902198010100011"
    assert app.unit_name == "沧州市中西医结合医院"
    assert basic.name == "甲"  # type: ignore[attr-defined]
    assert basic.id_number == "130902198010100011"  # type: ignore[attr-defined]


def test_keys_typed_while_loading_reach_the_form(tmp_path: Path) -> None:
    """The first frame (who, which year) comes before the application has loaded; keys
    typed then are kept and land in the first field once the form is up (R3.1 姓名)."""
    need(shutil.which("tmux") is not None, "tmux is not installed")
    db = tmp_path / "loading.sqlite3"
    with Store(db) as store:  # one application, opening on 个人基本信息 (姓名 focused)
        build_complete(store, BlobStore(db.parent / "blobs"), 2026)
    with terminal("loading") as t:
        t.start("--db", str(db), "--full-motion")
        t.wait_for("正在打开")
        assert "杨丰 · 2026年度" in t.screen()  # the first frame already says whose it is
        t.type("王五")  # replaces the name: a focused field's text is selected
        t.wait_focus("王五")
        t.press("C-q")
        assert t.poll(lambda: t.dead() is not None, 10), t.screen()
    with Store(db) as store:
        [app] = store.applications()
        basic = store.load(app.id).singles["basic_info"]
    assert basic.name == "王五"  # type: ignore[attr-defined]
