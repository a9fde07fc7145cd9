"""A small, safe condition language for rules kept in data.

Conditions read like Python (`method == 'green'`, `'health' in series_tags and level <= 2`)
and are compiled once at load time into closures over a facts mapping. Only names from a
declared vocabulary, literals, comparisons, `in`, `and`/`or`/`not` and attribute access on
facts (`record.foreign_language`) are allowed, so a data file cannot run code.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Collection, Mapping
from typing import Any

Facts = Mapping[str, Any]
Predicate = Callable[[Facts], bool]

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: b is not None and a in b,
    ast.NotIn: lambda a, b: b is None or a not in b,
}


class ExprError(ValueError):
    pass


def _compile(node: ast.AST, names: Collection[str]) -> Callable[[Facts], Any]:
    if isinstance(node, ast.Expression):
        return _compile(node.body, names)
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool | None):
        value = node.value
        return lambda _f: value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        parts = [_compile(e, names) for e in node.elts]
        return lambda f: frozenset(p(f) for p in parts)
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise ExprError(f"未知的名称 {node.id!r}，可用：{', '.join(sorted(names))}")
        key = node.id
        return lambda f: f.get(key)
    if isinstance(node, ast.Attribute):
        base = _compile(node.value, names)
        attr = node.attr
        return lambda f: b.get(attr) if isinstance(b := base(f), Mapping) else None
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v, names) for v in node.values]
        if isinstance(node.op, ast.And):
            return lambda f: all(p(f) for p in parts)
        return lambda f: any(p(f) for p in parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _compile(node.operand, names)
        return lambda f: not inner(f)
    if isinstance(node, ast.Compare):
        left = _compile(node.left, names)
        ops = [_COMPARE[type(op)] for op in node.ops if type(op) in _COMPARE]
        if len(ops) != len(node.ops):
            raise ExprError("只能使用 == != < <= > >= in not in 比较")
        rights = [_compile(c, names) for c in node.comparators]

        def compare(f: Facts) -> bool:
            a = left(f)
            for op, right in zip(ops, rights, strict=True):
                b = right(f)
                try:
                    if not op(a, b):
                        return False
                except TypeError:  # e.g. None < 3: a missing fact never satisfies an order test
                    return False
                a = b
            return True

        return compare
    raise ExprError(f"不支持的写法：{ast.dump(node)[:60]}")


def compile_condition(source: str | bool, names: Collection[str]) -> Predicate:
    """Compile a condition; raises ExprError (Chinese message) on anything not allowed."""
    if isinstance(source, bool):
        return lambda _f: source
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"条件表达式语法错误：{source!r}") from exc
    fn = _compile(tree, names)
    return lambda f: bool(fn(f))
