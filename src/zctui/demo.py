"""The demo workspace: the guide's own example application, complete, and a half-done one.

Complete: 卫生类 / 中医系列-中医 / 中医外科 / 副主任医师 / 正常申报 / 评审 (the example of
the guide's sixth step), with every required field, record and file. Half-done: an
engineer's application in progress, with the kinds of gaps and mistakes applicants make,
so `zctui check` has something to say.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from pathlib import Path
from typing import Any

from zctui.domain.models import Application
from zctui.store.blobs import BlobStore
from zctui.store.repository import Store

SUMMARY = "\n".join(
    [
        "本人自2004年参加工作以来，一直从事中医外科临床工作，热爱本职，恪守医德。",
        "任主治医师以来，熟练掌握中医外科常见病、多发病的诊断与治疗，",
        "擅长运用中医药治疗疮疡、乳腺病、周围血管病及肛肠疾病。",
        "年均门诊量六千余人次，主持及参与院内疑难病例讨论四十余次。",
        "在科室开展中药外敷治疗糖尿病足等新技术三项，取得良好疗效。",
        "带教实习医师、规培医师二十余名，承担科室业务学习授课。",
        "在省级以上期刊发表论文两篇，参与市级科研课题一项。",
        "积极参加对口支援和义诊活动，多次获评院级先进个人。",
        "今后将继续钻研业务，努力提高中医外科诊疗水平。",
    ]
)


def tiny_pdf(text: str) -> bytes:
    """A small, valid one-page PDF (ASCII text), standing in for a scanned document."""
    safe = text.encode("ascii", "replace").decode().replace("(", "[").replace(")", "]")
    stream = f"BT /F1 14 Tf 72 720 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def tiny_photo(width: int = 90, height: int = 120) -> bytes:
    """A portrait PNG of one colour: a stand-in ID photo."""
    raw = b"".join(b"\x00" + b"\x3c\x78\xc8" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class _Filler:
    """Fills records field by field through the store, as a person typing would."""

    def __init__(self, store: Store, blobs: BlobStore, app: Application) -> None:
        self.store, self.blobs, self.app = store, blobs, app

    def single(self, table: str, **values: str) -> uuid.UUID:
        row = self.store.single(table, self.app.id)
        for field, value in values.items():
            self.store.set_field(table, row.id, field, value)
        return row.id

    def settings(self, **values: str) -> None:
        for field, value in values.items():
            self.store.set_field("application", self.app.id, field, value)

    def record(self, table: str, *slots: str, **values: Any) -> uuid.UUID:
        row = self.store.add_record(table, self.app.id, **values)
        self.files(table, row.id, *slots)
        return row.id

    def files(self, owner_table: str, owner_id: uuid.UUID, *slots: str) -> None:
        for slot in slots:
            photo = slot == "photo"
            data = tiny_photo() if photo else tiny_pdf(f"{owner_table} {slot}")
            digest = self.blobs.put(data)
            self.store.attach(
                application_id=self.app.id,
                owner_table=owner_table,
                owner_id=owner_id,
                slot=slot,
                sha256=digest,
                original_name=f"{slot}.png" if photo else f"{slot}.pdf",
                size=len(data),
                pages=None if photo else 1,
                media_type="image/png" if photo else "application/pdf",
            )


def build_complete(store: Store, blobs: BlobStore, year: int) -> Application:
    person = store.create_person("130902198010100011", "杨丰")
    app = store.create_application(person, year, unit_name="沧州市中西医结合医院", city="沧州市")
    f = _Filler(store, blobs, app)
    f.settings(category="ws", series="230.zy", specialty="02", title="232", method="normal",
               review_mode="review")  # fmt: skip
    basic = f.single(
        "basic_info", name="杨丰", id_type="id_card", id_number="130902198010100011",
        gender="1", ethnicity="01", birth_date="1980-10-10", politics="01",
        mobile="13831712345", work_phone="0317-2123456", summary=SUMMARY,
    )  # fmt: skip
    f.files("basic_info", basic, "summary_file", "photo")
    f.record("social_security_record", unit="沧州市中西医结合医院", months="95",
             start_date="2014-10-01", status="正常")  # fmt: skip
    f.single(
        "current_status", archive_unit="沧州市人才交流服务中心", unit_type="institution",
        hr_phone="0317-2123400", years_in_specialty="8", current_specialty="中医外科",
        has_title="1", cur_category="ws", cur_series="230.zy", cur_specialty="02",
        cur_title="233", cur_title_date="2018-12-20",
    )  # fmt: skip
    f.files("application", app.id, "m01", "m02", "m03", "m04", "m07", "m15")
    f.record(
        "education", "diploma", "chsi_record", kind="evaluated", school="河北中医学院",
        major="中医学", level="21", degree="4", origin="mainland", start="1999-09",
        graduated="2004-07", chsi_code="A3K9P2M7Q4T8",
    )  # fmt: skip
    f.record("work_history", start="2004-08", unit="沧州市中西医结合医院", post="中医外科医师")
    f.record(
        "title_certificate", "certificate", role="current", category="ws", series="230.zy",
        specialty="02", title="233", approval_no="冀卫职改〔2018〕12号",
        management_no="1813090200123", obtained="2018-12-20",
    )  # fmt: skip
    f.record(
        "combined_exam_certificate", "certificate", "score_sheet", category="ws",
        series="230.zy", specialty="02", title="232", obtained="2025-06-30", exam_year="2025",
        score="72", valid_until="2028-12-31",
    )  # fmt: skip
    for y, grade in zip(
        range(year - 5, year), ["pass", "pass", "excellent", "pass", "excellent"], strict=True
    ):
        f.record("annual_appraisal", "form", year=str(y), grade=grade)
    f.record(
        "work_experience", start="2019-01", end="2025-12",
        content="长期在中医外科临床一线工作，年均门诊量六千余人次，独立处理本专业疑难病例。",
        remark="符合冀人社发〔2019〕28号“三、专业技术工作经历(能力)条件”第1条",
    )  # fmt: skip
    f.record(
        "work_experience", start="2020-03", end="2024-12",
        content="承担规培医师、实习医师带教工作，指导下级医师二十余名。",
        remark="符合第3条",
    )  # fmt: skip
    for n in (1, 2):
        f.record("other_achievement", "file", kind="case_analysis", name=f"中医外科病例分析（{n}）")
    f.record(
        "paper", "cover", "copyright", "contents", "text",
        title="中药外敷治疗糖尿病足溃疡临床观察", journal="中医杂志",
        journal_numbers="ISSN 1001-1668 CN11-2166/R", sponsor="中华中医药学会、中国中医科学院",
        published="2022-05", author_rank="first", words="4.5", journal_rank="pku_core",
        retrieval_url="https://kns.cnki.net/kcms/detail/detail.aspx?dbcode=CJFD&filename=ZZYZ202205012",
    )  # fmt: skip
    f.record(
        "paper", "cover", "copyright", "contents", "text",
        title="中医外治法在急性乳腺炎中的应用", journal="中国中医急症",
        journal_numbers="ISSN 1004-745X CN50-1102/R", sponsor="中华中医药学会",
        published="2023-11", author_rank="sole", words="3.2", journal_rank="sci_tech_core",
        retrieval_url="https://d.wanfangdata.com.cn/periodical/zgzyjz202311020",
    )  # fmt: skip
    f.single(
        "overview_supplement", admin_post="无", current_qualification="主治医师",
        applied_qualification="副主任医师", work_start="2004-08", health="1", score="86.5",
        score_rank="2", unit_recommended="5", years_professional="21", years_grassroots="3",
    )  # fmt: skip
    return app


def build_half_done(store: Store, blobs: BlobStore, year: int) -> Application:
    person = store.create_person("130921198803150026", "李静")
    app = store.create_application(
        person, year, unit_name="沧州华电电子科技有限公司", city="沧州市"
    )
    f = _Filler(store, blobs, app)
    # 自主评审 is not open to this unit: the R2.5 rule must stop it.
    f.settings(category="gc", series="080.dz", specialty="02", title="083", method="one_step",
               review_mode="self_review")  # fmt: skip
    f.single("basic_info", name="李静", id_type="id_card", id_number="130921198803150026",
             gender="1", mobile="1383171234")  # fmt: skip
    f.single("current_status", unit_type="private_enterprise", has_title="0")
    f.files("application", app.id, "m01", "m02")
    f.record("education", "diploma", kind="evaluated", school="河北工业大学", major="通信工程",
             level="21", origin="mainland", graduated="2010-07")  # fmt: skip
    f.record(
        "paper", "cover", title="基于LoRa的配电房环境监测系统设计", journal="电子技术应用",
        journal_numbers="ISSN 0258-7990", published="2024.3", author_rank="first", words="3.55",
    )  # fmt: skip
    return app


def build_demo(path: Path, *, year: int, force: bool = False) -> tuple[Application, Application]:
    if path.exists():
        if not force:
            raise FileExistsError(path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    blobs = BlobStore(path.parent / "blobs")
    with Store(path) as store:
        return build_complete(store, blobs, year), build_half_done(store, blobs, year)
