"""Emergency (119/110/120/122) and out-of-scope detection on texts written for these tests."""

from __future__ import annotations

import pytest

from routing.emergency import detect, out_of_scope

EMERGENCIES = [
    ("救命！我家厨房着火了，火很大", "119"),
    ("楼下商铺起火了，浓烟往楼上冒", "119"),
    ("小区3栋着火了快来人", "119"),
    ("仓库失火了，里面还有人", "119"),
    ("我闻到很浓的煤气味，邻居家好像没人", "119"),
    ("家里燃气管道泄漏了，怎么办", "119"),
    ("餐馆的液化气漏气了，很危险", "119"),
    ("天然气泄漏了，整栋楼都是味道", "119"),
    ("有人被困电梯里出不来", "119"),
    ("电梯困人，里面有个老人", "119"),
    ("工厂刚刚爆炸了", "119"),
    ("对面楼正在冒烟，好像是火灾", "119"),
    ("路边有个老人晕倒了，叫不醒", "120"),
    ("我爸突然昏迷了，请快派救护车", "120"),
    ("有人倒地不起，口吐白沫还在抽搐", "120"),
    ("工地上有工人从架子上摔下来，现在流血不止", "120"),
    ("邻居煤炭取暖中毒了，人已经不省人事", "120"),
    ("孩子掉进河里了，快救人", "120"),
    ("同事呼吸困难，脸都紫了", "120"),
    ("马路上有人被砸伤了，正在流血", "120"),
    ("有人拿刀在街上砍人", "110"),
    ("刚才有人抢劫我的包，往南跑了", "110"),
    ("有人正在撬我家门，我很害怕", "110"),
    ("楼顶有个女孩要跳楼", "110"),
    ("我朋友说想自杀，现在联系不上", "110"),
    ("楼下有一群人正在打架斗殴", "110"),
    ("隔壁男的正在打人，女的一直在喊救命", "110"),
    ("我被人非法拘禁在一个房子里", "110"),
    ("人民路路口发生车祸，两辆车撞了", "122"),
    ("高速上追尾了，车堵住了", "122"),
    ("我刚被车撞了，司机想跑", "122"),
    ("十字路口有辆货车翻车了", "122"),
    ("车祸有人受伤昏迷，快叫救护车", "120"),
]
ORDINARY = [
    "小区消防通道被占用，车辆堵塞，请处理",
    "楼道消防栓没有水，物业不管",
    "昨天发生的交通事故理赔，保险公司拖着不赔",
    "交通事故责任认定书对我不公平",
    "去年在工地受伤，工伤认定一直没办下来",
    "饭店油烟扰民，排烟管道正对我家窗户",
    "工厂烟囱每天冒黑烟，污染空气",
    "小区电动车在楼道充电，存在火灾隐患",
    "建议在学校开展消防安全知识培训",
    "如果发生火灾，老旧小区的消防车根本进不来",
    "没有发生火灾，但是楼道堆满杂物很危险",
    "请问燃气开户需要什么材料",
    "燃气公司乱收费，安装费太贵",
    "楼下火锅店营业到凌晨很吵",
    "希望增加火车站到高新区的公交线路",
    "春节期间燃放烟花爆竹的规定是什么",
    "去年被打的案子派出所一直没处理",
    "我想咨询医疗费报销的比例",
    "单位拖欠工资三个月了",
    "学校附近的网吧接纳未成年人",
    "路灯坏了好几天，晚上太黑",
    "公交车司机态度恶劣",
    "小区门口菜市场占道经营",
    "之前发生过一次车祸，这个路口建议装红绿灯",
    "交通事故处理完了，对方一直不赔偿医药费",
    "养老保险缴费基数怎么算",
    "幼儿园收费太高",
    "出租车拒载绕路",
    "医院挂号排队时间太长",
    "楼上装修噪音太大，周末也不停",
    "防止火灾，请物业清理楼道杂物",
    "小区里经常有人吸烟乱扔烟头",
    "担心燃气管道老化漏气，请燃气公司来检查",
    "网购的手机有质量问题，商家不退货",
    "我的信用卡被盗刷了怎么办",
    "举报某企业偷排污水",
]
SCOPE = [
    ("我已经向法院起诉了，想问问进度", "诉讼"),
    ("法院判决了对方不执行怎么办", "诉讼"),
    ("这件事我准备打官司", "诉讼"),
    ("我申请了劳动仲裁，仲裁委一直不开庭", "仲裁"),
    ("公司不给补偿，我要去仲裁", "仲裁"),
    ("举报村支书贪污扶贫款", "纪检监察"),
    ("某局长收受贿赂，违反中央八项规定公款吃喝", "纪检监察"),
    ("对区城管局的处罚决定不服，想申请行政复议", "行政复议"),
    ("我要申请政府信息公开，公开征地补偿标准", "信息公开"),
    ("依申请公开的答复超期了", "信息公开"),
    ("这个问题我已经走信访程序了，信访局答复不满意", "信访"),
    ("多次上访都没有解决拆迁补偿", "信访"),
]
SCOPE_NOT = [
    "法院门口乱停车很严重",
    "单位拖欠工资三个月了，请劳动监察处理",
    "我不想打官司，希望协调解决物业纠纷",
    "小区垃圾清运不及时",
]


def test_enough_cases():
    assert len(EMERGENCIES) >= 30 and len(ORDINARY) >= 30 and len(SCOPE) >= 12


@pytest.mark.parametrize(("text", "number"), EMERGENCIES)
def test_emergency_flagged_with_the_right_number(text, number):
    found = detect(text)
    assert found is not None, text
    assert found.number == number
    assert found.phrase and found.phrase in text.lower()
    assert found.numbers[0] == number


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_case_not_flagged(text):
    assert detect(text) is None


def test_several_dangers_most_urgent_first():
    found = detect("刚刚发生车祸了，车子着火了，有人昏迷")
    assert found.number == "119"
    assert found.numbers == ("119", "120", "122")


def test_empty_input():
    assert detect("") is None and detect(None) is None
    assert out_of_scope("") is None and out_of_scope(None) is None


def test_full_width_text():
    assert detect("救命！！着火了！！").number == "119"


@pytest.mark.parametrize(("text", "reason"), SCOPE)
def test_out_of_scope(text, reason):
    found = out_of_scope(text)
    assert found is not None, text
    assert found.reason == reason
    assert found.answer and "12345" not in found.phrase


@pytest.mark.parametrize("text", SCOPE_NOT + ORDINARY[:20])
def test_in_scope(text):
    assert out_of_scope(text) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("我要起诉对方", "人民法院"),
        ("我想申请劳动仲裁", "仲裁委员会"),
        ("举报干部受贿", "纪委监委"),
        ("我要申请行政复议", "复议机关"),
        ("申请政府信息公开", "依申请公开"),
        ("已经进入信访程序", "信访部门"),
    ],
)
def test_guidance_names_the_right_channel(text, words):
    assert words in out_of_scope(text).answer
