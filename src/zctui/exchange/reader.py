"""Reading a workbook row by row: XLSX through openpyxl's read-only mode (no cell objects kept,
formulas never evaluated), or one CSV file as one sheet (UTF-8, or GBK as Excel in China saves
it). Each row comes as its values and the columns that hold a formula."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ReadError(ValueError):
    """The file cannot be read as a workbook at all; the message says why, in Chinese."""


@dataclass
class Sheet:
    name: str
    size: int | None  # rows, as the file declares them (a progress hint)
    _rows: Iterator[tuple[int, tuple[Any, ...], tuple[int, ...]]]

    def rows(self) -> Iterator[tuple[int, tuple[Any, ...], tuple[int, ...]]]:
        """(row number, values, indexes of formula cells), from row 1."""
        return self._rows


def _xlsx_rows(ws: Any) -> Iterator[tuple[int, tuple[Any, ...], tuple[int, ...]]]:
    for n, cells in enumerate(ws.iter_rows(), start=1):
        values = tuple(c.value for c in cells)
        formulas = tuple(i for i, c in enumerate(cells) if getattr(c, "data_type", None) == "f")
        yield n, values, formulas


def _xlsx(path: Path) -> Iterator[Sheet]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ReadError(f"无法读取 {path.name}：不是有效的 XLSX 工作簿（{exc}）") from exc
    except Exception as exc:  # a zip that is not a workbook, a damaged file
        raise ReadError(f"无法读取 {path.name}：文件已损坏或不是 XLSX（{exc}）") from exc
    try:
        for ws in wb.worksheets:
            size = ws.max_row if isinstance(ws.max_row, int) else None
            yield Sheet(ws.title, size, _xlsx_rows(ws))
    finally:
        wb.close()


def _encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the start of the file decodes as such, else GB18030."""
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def _csv(path: Path, sheet_name: str) -> Iterator[Sheet]:
    encoding = _encoding(path)

    def rows() -> Iterator[tuple[int, tuple[Any, ...], tuple[int, ...]]]:
        try:
            with path.open(encoding=encoding, newline="") as fh:
                for n, row in enumerate(csv.reader(fh), start=1):
                    yield n, tuple(row), ()
        except UnicodeDecodeError as exc:
            raise ReadError(f"无法读取 {path.name}：编码不是 UTF-8 或 GBK（{exc}）") from exc
        except csv.Error as exc:
            raise ReadError(f"无法读取 {path.name}：CSV 格式错误（{exc}）") from exc

    yield Sheet(sheet_name, None, rows())


def read_sheets(path: Path, csv_sheet: str) -> Iterator[Sheet]:
    """The file's sheets in order; a CSV file is one sheet named `csv_sheet`."""
    if not path.is_file():
        raise ReadError(f"找不到文件 {path}：请检查路径")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv(path, csv_sheet)
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx(path)
    raise ReadError(
        f"不支持的文件类型 {path.suffix or '（无扩展名）'}：请用 XLSX 工作簿或 CSV 文件"
        "（.xls 请在 Excel 或 WPS 中另存为 .xlsx）"
    )
