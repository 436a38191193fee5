"""Demo KB, part 2: Q&A / policy articles (问答、政策解读) of 示范市, read from data/kb_articles.json, plus
per-district and per-street guides generated from the city's units. ARTICLES: (department code, category path,
title, tags, body); SERVICE_HALLS: district code -> (hall address, social-security window)."""

from __future__ import annotations

import json
from pathlib import Path

_DATA = json.loads((Path(__file__).parent / "data" / "kb_articles.json").read_text(encoding="utf-8"))

ARTICLES: list[tuple] = [(a["department"], a["category"], a["title"], a["tags"], a["body"]) for a in _DATA["articles"]]
SERVICE_HALLS: dict[str, tuple[str, str]] = {
    code: (hall["hall"], hall["window"]) for code, hall in _DATA["service_halls"].items()
}


def district_articles(districts: list[tuple[str, str]], streets: dict[str, list[str]]) -> list[dict]:
    """Guides that apply to one district or street: service hall, school places, street service centres."""
    out = []
    for code, name in districts:
        hall, window = SERVICE_HALLS.get(code, (f"{name}政务服务中心", "一楼"))
        out.append(
            {
                "department": code,
                "category": "党务政务/政治体制",
                "districts": [code],
                "title": f"{name}政务服务中心地址、办公时间和可办事项",
                "tags": [f"{name}办事大厅", "政务服务中心"],
                "body": f"{name}政务服务中心位于{hall}，工作日9:00—17:00（周六上午延时服务）。可办理社保、医保、"
                f"公积金、户籍、不动产登记、营业执照等400余项事项，社保医保窗口在{window}。",
            }
        )
        out.append(
            {
                "department": code,
                "category": "教育文体/考试招生",
                "districts": [code],
                "title": f"{name}义务教育入学划片和报名咨询",
                "tags": [f"{name}学区", "划片", "入学"],
                "body": f"{name}每年4月底在区教育局网站公布小学、初中学区划分；5月在“示范市民”App报名。"
                f"对片区有疑问可拨打{name}教育局招生咨询电话，或工作日到{hall}教育窗口咨询。",
            }
        )
        out.append(
            {
                "department": "ZGJ",
                "category": "国土资源/土地资源管理",
                "districts": [code],
                "title": f"{name}不动产登记分中心和社保医保大厅在哪里",
                "tags": [f"{name}不动产登记", f"{name}社保大厅"],
                "body": f"{name}不动产登记分中心和社保、医保经办大厅都在{hall}（社保医保在{window}）。"
                f"二手房过户、抵押登记可在分中心“一窗受理”；社保卡补办、医保参保可在大厅或合作银行网点办理。",
            }
        )
        for street in streets.get(code, []):
            out.append(
                {
                    "department": code,
                    "category": "民政/基层选举和社区建设",
                    "districts": [code],
                    "title": f"{name}{street}便民服务中心能办哪些事",
                    "tags": [street, "便民服务中心"],
                    "body": f"{street}便民服务中心设在街道办事处一楼，工作日9:00—17:00。可办理低保、高龄津贴、"
                    f"残疾人补贴、居民医保参保、居住登记、计生服务、老年优待证等事项，社区工作人员可上门代办。",
                }
            )
    return out
