"""Masked ID numbers and phones: what a helpdesk reads, what a unit's table shows."""

from __future__ import annotations


def mask_id(id_number: str | None) -> str | None:
    """1309…0011 → 130902********0011: enough to recognise, not to use."""
    if not id_number:
        return id_number
    return id_number[:6] + "*" * max(len(id_number) - 10, 0) + id_number[-4:]


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:]
