"""Hand-made keyword routing: the fallback when no trained model is loaded.

Each level-1 category of the taxonomy (names exactly as in taxonomy.csv) has a few telling words;
a text scores by the words it contains (longer words weigh more). Scores are deliberately modest
(≤ 0.6): keyword routing never auto-dispatches.
"""

from __future__ import annotations

from routing.text import normalize

_WORDS: dict[str, str] = {
    "城乡建设": (
        "物业 小区 业主 房产证 开发商 拆迁 违建 违章建筑 路灯 井盖 城管 占道 自来水 停水 停电 供电 "
        "燃气 暖气 供暖 电梯 垃圾 公厕 绿化 市政 道路破损 施工 工地 公租房 廉租房 公积金 房屋 装修 "
        "下水道 积水"
    ),
    "环境保护": ("噪音 噪声 扰民 污染 油烟 废气 粉尘 异味 臭味 排污 污水 偷排 环保 环评 焚烧 辐射 养殖场 空气质量"),
    "交通运输": ("公交 出租车 网约车 客运 货运 高速 收费站 公路 驾校 运管 班车 站台 线路 地铁 快递 物流 超载"),
    "教育文体": (
        "学校 学生 老师 教师 幼儿园 入学 招生 学位 补课 培训机构 教育 考试 学费 校车 体育 图书馆 文化 文物 广场舞"
    ),
    "劳动和社会保障": (
        "工资 欠薪 拖欠 社保 养老保险 医保 失业 就业 劳动合同 加班 工伤 退休 养老金 人社 农民工 辞退 职称 编制"
    ),
    "商贸旅游": (
        "商家 消费者 退款 退货 假货 质量问题 价格 乱收费 超市 商场 景区 旅游 导游 旅行社 传销 "
        "市场监管 虚假宣传 预付卡 会员卡"
    ),
    "卫生计生": (
        "医院 医生 护士 看病 药品 药店 疫苗 卫生院 诊所 计划生育 生育 二孩 食品安全 餐馆卫生 过期食品 医疗 卫健委 体检"
    ),
    "党务政务": ("党员 党组织 政务公开 办事效率 工作作风 政府网站 宣传 民族 宗教 侨"),
    "农村农业": ("农村 农民 土地承包 村委 村干部 惠农 补贴 种植 养殖 化肥 农药 种子 扶贫 水利 水库 林地 山林 宅基地"),
    "国土资源": ("征地 土地征收 土地证 不动产 国土 采矿 矿山 采砂 地质灾害"),
    "政法": (
        "派出所 警察 民警 户口 户籍 身份证 治安 诈骗 赌博 交警 违章停车 驾驶证 律师 公证 法律援助 黑社会 高空抛物"
    ),
    "民政": ("低保 救助 特困 残疾人 养老院 敬老院 福利 殡葬 墓地 婚姻登记 社区居委会 退役军人 优抚 流浪"),
    "科技与信息产业": ("网络 宽带 手机信号 基站 电信 移动公司 联通 骚扰电话 垃圾短信 网站 知识产权 专利 科技"),
    "纪检监察": ("纪委 贪污 受贿 腐败 违纪 公款 吃拿卡要"),
    "经济管理": ("税务 发票 纳税 非法集资 银行 贷款 理财 保险 证券 国企 破产 物价局 安全生产"),
}
KEYWORDS: dict[str, tuple[str, ...]] = {c: tuple(w.split()) for c, w in _WORDS.items()}


def keyword_scores(text: str, categories: list[str] | None = None) -> list[tuple[str, float]]:
    """(category, score) for every category with at least one hit, best first; scores in (0, 0.6]."""
    norm = normalize(text or "")
    raw: dict[str, float] = {}
    for category, words in KEYWORDS.items():
        if categories is not None and category not in categories:
            continue
        hits = sum(len(w) for w in words if w in norm)
        if hits:
            raw[category] = float(hits)
    total = sum(raw.values())
    ranked = sorted(raw.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(c, round(0.6 * v / total, 4)) for c, v in ranked]
