"""`zctui guide`: the operations guide's twelve steps (or one), in the guide's own words,
with the parts of zctui each step leads to."""

from __future__ import annotations

from typing import Annotated

import typer


def guide(
    step: Annotated[int | None, typer.Argument(help="只显示这一步（1–12）")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="以 Markdown 输出")] = False,
) -> None:
    """操作指南：十二个步骤的指南原文（zctui guide 5 只看第5步）。"""
    from zctui.data.forms import load_forms
    from zctui.data.guide import load_guide

    g = load_guide()
    if step is not None and not 1 <= step <= 12:
        typer.echo(f"没有第{step}步：请输入 1 到 12 之间的步骤号，如 zctui guide 5", err=True)
        raise typer.Exit(2)
    forms = load_forms()
    steps = g.steps if step is None else (g.step(step),)
    if step is None and not markdown:
        typer.echo(" ".join(g.cover))
    for s in steps:
        where = "、".join(sec.title for sec in forms.sections_of(s.number))
        if markdown:
            typer.echo(s.markdown())
            continue
        typer.echo(f"\n{s.heading}")
        for line in s.plain():
            typer.echo(f"  {line}")
        if where:
            typer.echo(f"  → 在 zctui 中：{where}")
