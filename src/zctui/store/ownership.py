"""A workspace is one person's: on a unit's shared SSH host every user has their own, and
zctui refuses a file someone else owns or may write. Standard library only: the CLI checks
before the TUI starts, without loading SQLAlchemy."""

from __future__ import annotations

import os
import stat
from pathlib import Path

NOT_YOURS = (
    "工作区文件 {path} 属于另一个用户（{owner}），不能打开：每个人应使用自己的工作区"
    "（默认在自己的数据目录中）。请不要用 --db 或 ZCTUI_DB 指向别人的文件"
)
OPEN_TO_OTHERS = (
    "工作区文件 {path} 其他用户也能修改（权限 {mode:o}），为防止申报内容被他人改动，不能打开。"
    "请先运行 chmod 600 {path} 再重试"
)
DIR_OPEN_TO_OTHERS = (
    "工作区所在的目录 {path} 任何用户都能写入（权限 {mode:o}），他人可以替换其中的文件，不能使用。"
    "请运行 chmod 700 {path}，或用 --db 把工作区放到自己的目录中"
)


class WorkspaceRefused(PermissionError):
    """A workspace file another user owns or may write: the message says why, in Chinese."""


def _owner(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def check_workspace(path: Path) -> None:
    """One person's workspace is theirs alone (a unit's shared SSH host, issue 8): refuse a
    file owned by someone else or writable by others, and a folder anyone may write to
    (without the sticky bit, anyone could swap the file)."""
    try:
        folder = path.parent.stat()
    except FileNotFoundError:
        return
    if folder.st_mode & stat.S_IWOTH and not folder.st_mode & stat.S_ISVTX:
        mode = stat.S_IMODE(folder.st_mode)
        raise WorkspaceRefused(DIR_OPEN_TO_OTHERS.format(path=path.parent, mode=mode))
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    if st.st_uid != os.geteuid():
        raise WorkspaceRefused(NOT_YOURS.format(path=path, owner=_owner(st.st_uid)))
    if st.st_mode & stat.S_IWOTH:
        raise WorkspaceRefused(OPEN_TO_OTHERS.format(path=path, mode=stat.S_IMODE(st.st_mode)))


def create_private(path: Path) -> None:
    """A new workspace's folder (the last level) is its owner's only, and so is the file:
    SQLite gives its -wal and -shm files the main file's permissions."""
    if not path.parent.exists():
        path.parent.parent.mkdir(parents=True, exist_ok=True)
        path.parent.mkdir(mode=0o700, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
