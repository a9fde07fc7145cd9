"""The review workflow (R12, DESIGN): which action moves an application from which state to
which, who may take it, and the checks that go with it. Refusals say why in Chinese."""

from __future__ import annotations

from dataclasses import dataclass

from zctui.data.catalog import load_catalog


def state_label(state: str) -> str:
    """The state's label as the TUI shows it (values.yaml, workflow_state)."""
    return load_catalog().values("workflow_state").label_of(state)


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]


TRANSITIONS = {
    t.action: t
    for t in (
        # A returned application is the applicant's again (a draft with the unit's reasons).
        Transition("submit", "提交", ("draft", "unit_returned"), "submitted", ("applicant",)),
        # R12.2: withdrawing is possible only until the unit has opened it.
        Transition("withdraw", "撤回", ("submitted",), "draft", ("applicant",)),
        Transition("open", "单位打开审核", ("submitted",), "unit_opened", ("unit_admin",)),
        Transition("return", "单位退回", ("unit_opened",), "unit_returned", ("unit_admin",)),
        Transition("approve", "单位审核通过", ("unit_opened",), "unit_approved", ("unit_admin",)),
        Transition("accept", "职改办受理", ("unit_approved",), "office_review", ("office",)),
        Transition("pass", "评审通过", ("office_review",), "approved", ("office",)),
        Transition("reject", "评审不通过", ("office_review",), "rejected", ("office",)),
        Transition("issue", "发放证书", ("approved",), "certificate_issued", ("office",)),
    )
}


def refusal(action: str, state: str, role: str) -> str | None:
    """Why `role` may not take `action` on an application in `state`, or None."""
    t = TRANSITIONS[action]
    if role not in t.roles:
        return f"「{t.label}」只能由{_ROLE_LABEL[t.roles[0]]}操作，您的帐号无权执行"
    if state not in t.sources:
        allowed = "、".join(f"「{state_label(s)}」" for s in t.sources)
        return (
            f"申报当前状态为「{state_label(state)}」，不能「{t.label}」："
            f"只有处于{allowed}状态的申报才可以{t.label}"
        )
    return None


_ROLE_LABEL = {
    "applicant": "申报人本人",
    "unit_admin": "单位管理员",
    "helpdesk": "服务热线",
    "office": "职改办",
}
