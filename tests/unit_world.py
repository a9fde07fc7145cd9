"""A unit's workspace with thousands of applicants, written in a few batch inserts (the
applicants table's tests and bench/applicants.py): persons, applications with series,
title and state from the catalog, and 基本信息 with the name."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, insert
from sqlmodel import SQLModel
from stdnum.cn import ric

from zctui.data.catalog import load_catalog
from zctui.domain.models import Application, BasicInfo, Person
from zctui.store.repository import Store

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红玉梅鹏辉晨雪琳斌宇浩凯"
    "秀云峰飞鑫波宁欣颖"
)
STATES = ("draft", "draft", "draft", "submitted", "unit_opened", "unit_returned", "unit_approved")


@dataclass(frozen=True)
class Unit:
    ids: list[uuid.UUID]  # application ids, in insertion order
    names: list[str]
    zhang_san: uuid.UUID  # the one 张三 (pinyin initials zs…)


def _table(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def id_number(n: int) -> str:
    body = f"130902{1960 + n % 40}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def fill_unit(store: Store, count: int, seed: int = 7) -> Unit:
    """`count` applicants of one unit, this year, with varied series, titles and states."""
    rnd = random.Random(seed)
    catalog = load_catalog()
    series = [s for s in catalog.series if s.titles][:12]
    year = datetime.now().year
    now = datetime.now(UTC)
    persons, apps, infos = [], [], []
    ids, names = [], []
    for n in range(count):
        name = (
            "张三"
            if n == count // 2
            else rnd.choice(SURNAMES)
            + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
        )
        if name == "张三" and n != count // 2:
            name = "张三丰"
        s = series[n % len(series)]
        t = s.titles[n % len(s.titles)]
        pid, aid = uuid.uuid4(), uuid.uuid4()
        changed = now - timedelta(minutes=rnd.randrange(0, 60 * 24 * 60))
        persons.append({"id": pid, "rev": 0, "updated_at": changed, "deleted": False,
                        "id_number": id_number(n), "name": name})  # fmt: skip
        apps.append({"id": aid, "rev": 0, "updated_at": changed, "deleted": False,
                     "person_id": pid, "year": year, "state": rnd.choice(STATES),
                     "catalog_version": catalog.version, "unit_name": "沧州市中心医院",
                     "city": "沧州市", "category": s.category, "series": s.code,
                     "specialty": s.specialties[0].code if s.specialties else None,
                     "title": t.code, "method": None, "review_mode": None})  # fmt: skip
        infos.append({"id": uuid.uuid4(), "rev": 0, "updated_at": changed, "deleted": False,
                      "application_id": aid, "name": name, "id_number": id_number(n)})  # fmt: skip
        ids.append(aid)
        names.append(name)
    with store.engine.begin() as conn:
        conn.execute(insert(_table(Person)), persons)
        conn.execute(insert(_table(Application)), apps)
        conn.execute(insert(_table(BasicInfo)), [{**Defaults.INFO, **i} for i in infos])
    return Unit(ids, names, ids[count // 2])


class Defaults:
    INFO = {c: None for c in BasicInfo.model_fields if c not in ("id", "rev", "updated_at")}
