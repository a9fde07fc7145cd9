"""The `zctui` command as a user runs it: demo, check, --json, exit codes, --version."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from zctui import __version__


def zctui(*args: str, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("zctui", path=str(Path(sys.executable).parent))
    assert exe, "the console script is installed with the package"
    cmd = [exe, *(["--db", str(db)] if db else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_version() -> None:
    out = zctui("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"zctui {__version__}"


def test_demo_then_check_shows_complete_and_missing(tmp_path: Path) -> None:
    """Done-when of the foundation: the complete demo is complete; the half-done one lists
    the missing items with rule ids and the guide's words (R2.5, R3.1, R5 …)."""
    db = tmp_path / "ws" / "zctui.sqlite3"
    made = zctui("demo", db=db)
    assert made.returncode == 0, made.stderr
    assert db.exists()
    out = zctui("check", db=db)
    assert out.returncode == 1  # one application is incomplete
    complete, half = out.stdout.split("\n\n李静")
    assert "杨丰" in complete and "完成，可以提交" in complete
    assert "中医系列-中医 / 中医外科 / 副主任医师" in complete
    assert "缺" not in complete.split("完成，可以提交")[1]
    assert "[R2.5]" in half and "如选错，将无法参评" in half
    assert "缺 [R3.1] 请选择民族" in half
    assert "指南：手动选择民族和政治面貌" in half or "指南：检查个人基本信息是否正确" in half
    assert "缺 [R5.2] 请上传其他申报材料" in half


def test_check_json_and_exit_code_for_one_application(tmp_path: Path) -> None:
    db = tmp_path / "zctui.sqlite3"
    zctui("demo", db=db)
    out = zctui("check", "--json", db=db)
    report = json.loads(out.stdout)
    assert [r["complete"] for r in report] == [True, False]
    assert [r["state"] for r in report] == ["draft", "draft"]  # the workflow state, R12
    items = [i for step in report[1]["steps"] for s in step["sections"] for i in s["items"]]
    assert all(i["rule"].startswith("R") and i["guide"] for i in items)
    one = zctui("check", "--application", "130902198010100011", db=db)
    assert one.returncode == 0 and "李静" not in one.stdout


def test_demo_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    db = tmp_path / "zctui.sqlite3"
    zctui("demo", db=db)
    again = zctui("demo", db=db)
    assert again.returncode == 2 and "--force" in again.stderr
    assert zctui("demo", "--force", db=db).returncode == 0


def test_check_without_workspace_says_what_to_do(tmp_path: Path) -> None:
    out = zctui("check", db=tmp_path / "none.sqlite3")
    assert out.returncode == 2 and "zctui demo" in out.stderr


def test_help_lists_the_commands() -> None:
    out = zctui("--help")
    assert out.returncode == 0
    for command in ("demo", "check"):
        assert command in out.stdout
    assert "--low-bandwidth" in out.stdout
