"""Seed data for the fictional demo city 示范市 (pure data, no database access).

Contents
--------
``CITY``
    The city government itself (code ``"C"``, level ``"city"``).
``DEPARTMENTS``
    Every handling unit (承办单位) as ``{"code", "name", "kind", "parent"}``.
    ``kind`` is one of ``city``, ``district``, ``street``, ``department``, ``utility``;
    ``parent`` is the code of the superior unit (``None`` only for the city).

    Code scheme:

    * ``C`` - the city government.
    * ``D01`` .. ``D06`` - districts / the county (区/县), parent ``C``.
    * ``D01S01`` .. - streets / towns / townships (街道/镇/乡), parent = their district.
    * Short uppercase pinyin initials for city departments and public utilities,
      parent ``C`` (e.g. ``ZJJ`` = 住建局, ``ZLS`` = 自来水公司).  Where two names share
      initials a letter is added (``SWJ`` 商务局, ``SHWJ`` 水务局, ``SSWJ`` 税务局).
``CATEGORY_DEPARTMENTS``
    Every level-2 category of ``taxonomy.csv``, keyed ``"level1/level2"`` (level-2 names
    such as 其他 and 安全生产 repeat under different level-1 names), mapped to
    ``{"department": CODE, "local": bool}``.  ``local=True`` marks a 属地 matter: when the
    place is known the case goes to the district/street where it happens, otherwise to
    ``department``.
``CATEGORY3_DEPARTMENTS``
    Optional overrides for level-3 categories (``"level1/level2/level3"``) whose owner
    differs from their level-2 parent, e.g. 自来水供应 goes to the water company.
``LEVEL1_DEPARTMENTS``
    Fallback department per level-1 category.
``OUT_OF_SCOPE_CATEGORIES``
    Category paths (level-2 or level-3) that are answered with guidance and not
    dispatched (lawsuits, arbitration, discipline inspection, administrative review),
    mapped to a short reason.
``USERS`` / ``DEMO_PASSWORD``
    Demo accounts for every role; all share ``DEMO_PASSWORD``.
``PLACES``
    Gazetteer rows of ``data/places.csv`` (``{"unit", "kind", "name", "aliases"}``): short
    forms, roads, communities and landmarks of each district and street.  Fictional.  The seed
    loads them into the ``places`` table, which routing and the KB tokenizer read; nothing
    outside ``hotline/cli`` and ``hotline/seed`` reads this module.
``AREAS``
    The same places as the pure gazetteer takes them (unit code -> its name and its places),
    for tests and benchmarks.
"""

import csv
from pathlib import Path

CITY = {"code": "C", "name": "示范市", "kind": "city", "level": "city"}

# --- districts (区/县) and their streets/towns (街道/镇/乡) -------------------------------

_DISTRICTS = [
    ("D01", "东城区", ["和平街道", "东华街道", "朝阳街道", "建设街道"]),
    ("D02", "西城区", ["西关街道", "金城街道", "光明街道", "长安街道", "新华街道"]),
    ("D03", "高新区", ["创新街道", "科技城街道", "龙湾街道"]),
    ("D04", "滨江区", ["江滨街道", "望江街道", "白沙街道", "长宁镇"]),
    ("D05", "北湖区", ["北湖街道", "莲花街道", "湖西街道", "柳林镇"]),
    ("D06", "临川县", ["城关镇", "青山镇", "河口镇", "白云乡", "桃源镇"]),
]

# --- city departments (市直部门) and public utilities (公共服务企业) ------------------------

_CITY_UNITS = [
    # code, name, kind
    ("ZFB", "市人民政府办公室", "department"),
    ("ZWJ", "市政务服务和数据管理局", "department"),
    ("FGW", "市发展和改革委员会", "department"),
    ("GXJ", "市工业和信息化局", "department"),
    ("KJJ", "市科学技术局", "department"),
    ("JYJ", "市教育局", "department"),
    ("GAJ", "市公安局", "department"),
    ("MZJ", "市民政局", "department"),
    ("SFJ", "市司法局", "department"),
    ("CZJ", "市财政局", "department"),
    ("RSJ", "市人力资源和社会保障局", "department"),
    ("ZGJ", "市自然资源和规划局", "department"),
    ("SHJ", "市生态环境局", "department"),
    ("ZJJ", "市住房和城乡建设局", "department"),
    ("CGJ", "市城市管理综合执法局", "department"),
    ("JTJ", "市交通运输局", "department"),
    ("SHWJ", "市水务局", "department"),
    ("NYJ", "市农业农村局", "department"),
    ("SWJ", "市商务局", "department"),
    ("WLJ", "市文化广电旅游体育局", "department"),
    ("WJW", "市卫生健康委员会", "department"),
    ("TYJ", "市退役军人事务局", "department"),
    ("YJJ", "市应急管理局", "department"),
    ("GZW", "市国有资产监督管理委员会", "department"),
    ("SCJ", "市市场监督管理局", "department"),
    ("YBJ", "市医疗保障局", "department"),
    ("YLJ", "市园林绿化局", "department"),
    ("JRJ", "市地方金融管理局", "department"),
    ("MZZJ", "市民族宗教事务局", "department"),
    ("WSB", "市外事侨务办公室", "department"),
    ("GJJ", "市住房公积金管理中心", "department"),
    ("SSWJ", "国家税务总局示范市税务局", "department"),
    ("XFZD", "市消防救援支队", "department"),
    ("TXJ", "示范市通信管理局", "department"),
    ("YZJ", "示范市邮政管理局", "department"),
    ("JWJW", "市纪委监委", "department"),
    ("ZLS", "市自来水公司", "utility"),
    ("GDGS", "国网示范市供电公司", "utility"),
    ("RQJT", "市燃气集团", "utility"),
    ("RLJT", "市热力集团", "utility"),
    ("GJJT", "市公交集团", "utility"),
]


def _build_departments() -> list[dict]:
    units: list[dict] = [{"code": CITY["code"], "name": CITY["name"], "kind": "city", "parent": None}]
    for code, name, streets in _DISTRICTS:
        units.append({"code": code, "name": name, "kind": "district", "parent": CITY["code"]})
        for i, street in enumerate(streets, start=1):
            units.append({"code": f"{code}S{i:02d}", "name": street, "kind": "street", "parent": code})
    for code, name, kind in _CITY_UNITS:
        units.append({"code": code, "name": name, "kind": kind, "parent": CITY["code"]})
    return units


DEPARTMENTS: list[dict] = _build_departments()

# --- category → responsible unit -------------------------------------------------------


def _m(department: str, local: bool = False) -> dict:
    return {"department": department, "local": local}


CATEGORY_DEPARTMENTS: dict[str, dict] = {
    # 城乡建设
    "城乡建设/住房保障与房地产": _m("ZJJ", True),  # 物业服务、修缮、房屋租赁多为属地
    "城乡建设/国有土地上房屋征收与补偿": _m("ZJJ", True),
    "城乡建设/集体土地上房屋拆迁与补偿": _m("ZGJ", True),
    "城乡建设/城乡规划": _m("ZGJ", True),  # 违章建筑、挡光
    "城乡建设/城市建设和市政管理": _m("CGJ", True),  # 市容环卫、城管执法、小区管理
    "城乡建设/安全生产": _m("YJJ", True),
    "城乡建设/工程质量": _m("ZJJ"),
    "城乡建设/建筑市场": _m("ZJJ"),
    "城乡建设/村镇建设": _m("ZJJ", True),
    "城乡建设/其他": _m("ZJJ", True),
    # 环境保护
    "环境保护/环境污染": _m("SHJ", True),  # 噪音、油烟、废气、污水
    "环境保护/建设项目审批": _m("SHJ"),
    "环境保护/环保管理": _m("SHJ"),
    "环境保护/其他": _m("SHJ"),
    # 交通运输
    "交通运输/交通运输": _m("JTJ"),
    "交通运输/出租车管理": _m("JTJ"),
    "交通运输/客货运输": _m("JTJ"),
    "交通运输/建设管理": _m("JTJ"),
    "交通运输/邮政管理": _m("YZJ"),
    "交通运输/其他": _m("JTJ"),
    # 教育文体
    "教育文体/教育行政管理": _m("JYJ"),
    "教育文体/教育收费": _m("JYJ"),
    "教育文体/教育体制": _m("JYJ"),
    "教育文体/考试招生": _m("JYJ"),
    "教育文体/教师队伍和待遇": _m("JYJ"),
    "教育文体/失学辍学": _m("JYJ", True),  # 控辍保学由乡镇街道落实
    "教育文体/文化": _m("WLJ"),
    "教育文体/文物管理": _m("WLJ"),
    "教育文体/体育": _m("WLJ"),
    "教育文体/其他": _m("JYJ"),
    # 劳动和社会保障
    "劳动和社会保障/劳动关系": _m("RSJ"),
    "劳动和社会保障/劳动保护": _m("RSJ"),
    "劳动和社会保障/工资福利": _m("RSJ"),
    "劳动和社会保障/就业培训": _m("RSJ"),
    "劳动和社会保障/城镇职工社会保险": _m("RSJ"),
    "劳动和社会保障/城镇居民社会保险": _m("RSJ"),
    "劳动和社会保障/社保基金管理": _m("RSJ"),
    "劳动和社会保障/退休政策及待遇": _m("RSJ"),
    "劳动和社会保障/其他": _m("RSJ"),
    # 商贸旅游
    "商贸旅游/商业贸易": _m("SWJ"),
    "商贸旅游/市场监管": _m("SCJ"),
    "商贸旅游/质监检验检疫": _m("SCJ"),
    "商贸旅游/旅游管理": _m("WLJ"),
    "商贸旅游/其他": _m("SWJ"),
    # 卫生计生
    "卫生计生/医患纠纷": _m("WJW"),
    "卫生计生/医政监管": _m("WJW"),
    "卫生计生/公共卫生": _m("WJW"),
    "卫生计生/人口计生": _m("WJW"),
    "卫生计生/食品药品监管": _m("SCJ"),
    "卫生计生/其他": _m("WJW"),
    # 党务政务
    "党务政务/党的建设": _m("ZFB"),
    "党务政务/政治体制": _m("ZFB"),
    "党务政务/宣传舆论": _m("WLJ"),
    "党务政务/国防外交": _m("WSB"),
    "党务政务/港澳台侨": _m("WSB"),
    "党务政务/民族宗教": _m("MZZJ"),
    "党务政务/群众团体": _m("ZFB"),
    "党务政务/其他": _m("ZFB"),
    # 农村农业
    "农村农业/土地承包经营": _m("NYJ", True),
    "农村农业/村务管理": _m("NYJ", True),
    "农村农业/惠农补贴": _m("NYJ", True),
    "农村农业/扶贫开发": _m("NYJ"),
    "农村农业/农资农技": _m("NYJ"),
    "农村农业/动物防疫": _m("NYJ"),
    "农村农业/农垦农场": _m("NYJ"),
    "农村农业/农副产品流通": _m("NYJ"),
    "农村农业/水利水电": _m("SHWJ"),
    "农村农业/水库移民": _m("SHWJ"),
    "农村农业/林业管理": _m("YLJ"),
    "农村农业/草原草场": _m("YLJ"),
    "农村农业/野生资源管理": _m("YLJ"),
    "农村农业/其他": _m("NYJ"),
    # 国土资源
    "国土资源/土地征收": _m("ZGJ", True),
    "国土资源/土地资源管理": _m("ZGJ"),
    "国土资源/矿产资源管理": _m("ZGJ"),
    "国土资源/海洋气象地震": _m("YJJ"),
    "国土资源/其他": _m("ZGJ"),
    # 政法
    "政法/社会治安": _m("GAJ"),
    "政法/交通管理": _m("GAJ"),
    "政法/户籍证件": _m("GAJ"),
    "政法/刑案侦破": _m("GAJ"),
    "政法/警务督察": _m("GAJ"),
    "政法/刑罚执行": _m("SFJ"),
    "政法/法制建设": _m("SFJ"),
    "政法/法律服务": _m("SFJ"),
    "政法/仲裁与调解": _m("SFJ"),
    "政法/行政复议": _m("SFJ"),
    "政法/诉讼": _m("SFJ"),
    "政法/其他": _m("GAJ"),
    # 民政
    "民政/社会救助": _m("MZJ", True),  # 低保、特困在街道乡镇受理
    "民政/基层选举和社区建设": _m("MZJ", True),
    "民政/社会服务": _m("MZJ"),
    "民政/福利慈善": _m("MZJ"),
    "民政/救灾募捐": _m("MZJ"),
    "民政/民间组织": _m("MZJ"),
    "民政/区划地名": _m("MZJ"),
    "民政/优抚": _m("TYJ"),
    "民政/复退安置": _m("TYJ"),
    "民政/其他": _m("MZJ"),
    # 科技与信息产业
    "科技与信息产业/电信": _m("TXJ"),
    "科技与信息产业/信息化建设": _m("ZWJ"),
    "科技与信息产业/知识产权": _m("SCJ"),
    "科技与信息产业/科学技术": _m("KJJ"),
    "科技与信息产业/其他": _m("GXJ"),
    # 纪检监察 (out of scope: answered with guidance, see OUT_OF_SCOPE_CATEGORIES)
    "纪检监察/干部作风": _m("JWJW"),
    "纪检监察/失职渎职": _m("JWJW"),
    "纪检监察/滥用职权": _m("JWJW"),
    "纪检监察/贪污贿赂": _m("JWJW"),
    "纪检监察/党政处分": _m("JWJW"),
    "纪检监察/其他": _m("JWJW"),
    # 经济管理
    "经济管理/金融财税": _m("JRJ"),  # 非法集资、金融管理
    "经济管理/保险证券期货": _m("JRJ"),
    "经济管理/国资监管": _m("GZW"),
    "经济管理/企业破产": _m("GZW"),
    "经济管理/安全生产": _m("YJJ", True),
    "经济管理/宏观调控": _m("FGW"),
    "经济管理/能源管理": _m("FGW"),
    "经济管理/其他": _m("FGW"),
}

CATEGORY3_DEPARTMENTS: dict[str, dict] = {
    "城乡建设/城市建设和市政管理/自来水供应": _m("ZLS"),
    "城乡建设/城市建设和市政管理/电力供应": _m("GDGS"),
    "城乡建设/城市建设和市政管理/燃气供应": _m("RQJT"),
    "城乡建设/城市建设和市政管理/冬季采暖": _m("RLJT"),
    "城乡建设/城市建设和市政管理/公共汽车": _m("GJJT"),
    "城乡建设/城市建设和市政管理/地铁城铁": _m("JTJ"),
    "城乡建设/城市建设和市政管理/公园管理": _m("YLJ"),
    "城乡建设/城市建设和市政管理/园林绿化": _m("YLJ", True),
    "城乡建设/住房保障与房地产/住房公积金": _m("GJJ"),
    "城乡建设/住房保障与房地产/房产证登记、办理": _m("ZGJ"),
    "城乡建设/城乡规划/违章建筑": _m("CGJ", True),
    "劳动和社会保障/工资福利/住房公积金": _m("GJJ"),
    "劳动和社会保障/城镇居民社会保险/新农村合作医疗": _m("YBJ"),
    "劳动和社会保障/城镇居民社会保险/城镇居民医疗保险": _m("YBJ"),
    "劳动和社会保障/城镇职工社会保险/职工医疗保险": _m("YBJ"),
    "劳动和社会保障/城镇职工社会保险/职工生育保险": _m("YBJ"),
    "卫生计生/医政监管/医疗收费": _m("YBJ"),
    "经济管理/金融财税/税收征管": _m("SSWJ"),
    "经济管理/金融财税/财政收支": _m("CZJ"),
    "政法/社会治安/消防安全": _m("XFZD", True),
    "政法/交通管理/交通事故": _m("GAJ"),
    "党务政务/宣传舆论/互联网信息监管": _m("TXJ"),
    "民政/救灾募捐/救灾管理": _m("YJJ"),
    "农村农业/农副产品流通/粮食储备": _m("FGW"),
    "科技与信息产业/信息化建设/互联网运营管理": _m("TXJ"),
}

LEVEL1_DEPARTMENTS: dict[str, str] = {
    "城乡建设": "ZJJ",
    "环境保护": "SHJ",
    "交通运输": "JTJ",
    "教育文体": "JYJ",
    "劳动和社会保障": "RSJ",
    "商贸旅游": "SWJ",
    "卫生计生": "WJW",
    "党务政务": "ZFB",
    "农村农业": "NYJ",
    "国土资源": "ZGJ",
    "政法": "GAJ",
    "民政": "MZJ",
    "科技与信息产业": "GXJ",
    "纪检监察": "JWJW",
    "经济管理": "FGW",
}

OUT_OF_SCOPE_CATEGORIES: dict[str, str] = {
    "纪检监察/干部作风": "纪检监察",
    "纪检监察/失职渎职": "纪检监察",
    "纪检监察/滥用职权": "纪检监察",
    "纪检监察/贪污贿赂": "纪检监察",
    "纪检监察/党政处分": "纪检监察",
    "纪检监察/其他": "纪检监察",
    "政法/诉讼": "诉讼",
    "政法/行政复议": "行政复议",
    "政法/仲裁与调解/劳动仲裁": "仲裁",
    "政法/仲裁与调解/人事仲裁": "仲裁",
    "政法/仲裁与调解/民商事仲裁": "仲裁",
    "政法/仲裁与调解/生效法律文书执行": "诉讼",
}

# --- demo users ------------------------------------------------------------------------

DEMO_PASSWORD = "hotline12345"  # noqa: S105 - public demo password, documented

USERS: list[dict] = [
    {"username": "admin", "name": "赵建国", "role": "admin", "department": None},
    {"username": "agent1", "name": "李晓梅", "role": "agent", "department": None},
    {"username": "agent2", "name": "王芳", "role": "agent", "department": None},
    {"username": "agent3", "name": "陈思远", "role": "agent", "department": None},
    {"username": "dispatcher1", "name": "刘洋", "role": "dispatcher", "department": None},
    {"username": "dispatcher2", "name": "张静", "role": "dispatcher", "department": None},
    {"username": "monitor1", "name": "孙丽华", "role": "monitor", "department": None},
    {"username": "supervisor1", "name": "周振华", "role": "supervisor", "department": None},
    {"username": "handler_zjj", "name": "吴海涛", "role": "department_handler", "department": "ZJJ"},
    {"username": "admin_zjj", "name": "郑明", "role": "department_admin", "department": "ZJJ"},
    {"username": "handler_shj", "name": "冯雪", "role": "department_handler", "department": "SHJ"},
    {"username": "admin_shj", "name": "何立新", "role": "department_admin", "department": "SHJ"},
    {"username": "handler_rsj", "name": "高敏", "role": "department_handler", "department": "RSJ"},
    {"username": "admin_rsj", "name": "林志强", "role": "department_admin", "department": "RSJ"},
    {"username": "handler_jtj", "name": "罗勇", "role": "department_handler", "department": "JTJ"},
    {"username": "admin_jtj", "name": "梁晓东", "role": "department_admin", "department": "JTJ"},
    {"username": "handler_d01", "name": "宋佳", "role": "department_handler", "department": "D01"},
    {"username": "admin_d01", "name": "谢文斌", "role": "department_admin", "department": "D01"},
    {"username": "handler_d01s01", "name": "韩冬梅", "role": "department_handler", "department": "D01S01"},
    {"username": "admin_d01s01", "name": "唐国庆", "role": "department_admin", "department": "D01S01"},
    {"username": "auditor1", "name": "钱审计", "role": "auditor", "department": None},  # 审计员: the audit log only
    {"username": "sharing1", "name": "数据共享平台", "role": "integration", "department": None},  # the feed only
]

# --- gazetteer: read from data/places.csv ---------------------------------------------

PLACES_CSV = Path(__file__).parent / "data" / "places.csv"


def _read_places() -> list[dict]:
    with PLACES_CSV.open(encoding="utf-8", newline="") as fh:
        return [
            {
                "unit": r["unit"],
                "kind": r["kind"],
                "name": r["name"],
                "aliases": [a for a in r["aliases"].split("|") if a],
            }
            for r in csv.DictReader(fh)
        ]


PLACES: list[dict] = _read_places()


def _areas() -> dict[str, list[str]]:
    areas = {d["code"]: [d["name"]] for d in DEPARTMENTS if d["kind"] in ("district", "street")}
    for place in PLACES:
        areas[place["unit"]] += [place["name"], *place["aliases"]]
    return areas


AREAS: dict[str, list[str]] = _areas()
