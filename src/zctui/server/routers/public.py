"""The public pages of the original's top menu (R1.4): 通知公告, 政策文件, 证书查询."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import bindparam, select
from sqlmodel import col

from zctui.server.deps import DB, Caller, Fast, role
from zctui.server.models import Certificate, Publication
from zctui.server.reads import Query
from zctui.server.schemas import (
    CertificateOut,
    CertificateQuery,
    Limit,
    Offset,
    Problem,
    PublicationIn,
    PublicationOut,
)
from zctui.server.security import audit

router = APIRouter(tags=["public"])
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem} for code in (401, 403, 404, 422)
}


# Every TUI polls these: the fast path (server/reads.py); offset and limit are parameters.
_PUBLICATIONS = Query(
    select(Publication)
    .where(col(Publication.kind) == bindparam("kind"))
    .order_by(col(Publication.published_at).desc(), col(Publication.id))
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
)


async def _publications(reads: Fast, kind: str, offset: int, limit: int) -> list[PublicationOut]:
    rows = await reads.rows(
        _PUBLICATIONS, kind=kind, offset=max(offset, 0), limit=min(max(limit, 1), 200)
    )
    return [PublicationOut.model_validate(p) for p in rows]


@router.get("/public/announcements", responses=ERRORS)
async def announcements(reads: Fast, offset: Offset = 0, limit: Limit = 50) -> list[PublicationOut]:
    return await _publications(reads, "announcement", offset, limit)


@router.get("/public/policies", responses=ERRORS)
async def policies(reads: Fast, offset: Offset = 0, limit: Limit = 50) -> list[PublicationOut]:
    return await _publications(reads, "policy", offset, limit)


@router.post("/public/certificates/lookup", responses=ERRORS)
def certificate_lookup(body: CertificateQuery, db: DB) -> CertificateOut:
    """By number and name together (a POST, so neither lands in an access log); only the
    certificate's own fields come back."""
    cert = db.scalars(
        select(Certificate).where(
            col(Certificate.number) == body.number, col(Certificate.name) == body.name
        )
    ).first()
    if cert is None:
        raise HTTPException(404, "未查到该证书：请核对证书编号和姓名是否与证书上的一致")
    return CertificateOut.model_validate(cert)


@router.post("/publications", status_code=201, responses=ERRORS)
def publish(
    body: PublicationIn, db: DB, c: Annotated[Caller, Depends(role("office"))]
) -> PublicationOut:
    pub = Publication(**body.model_dump(), author_id=c.account.id)
    db.add(pub)
    audit(db, "publication.created", actor=c.account, reason=body.title, address=c.address)
    db.commit()
    return PublicationOut.model_validate(pub)
