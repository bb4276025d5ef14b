#!/usr/bin/env python3
"""Generates a realistic customers CSV for `examples/bench.sh`: mixed Chinese and English
names and companies, 11-digit mobiles, emails, `;`-separated tags, multi-line quoted notes.
Usage: gen_customers.py ROWS > customers.csv   (1,000,000 rows is about 190 MB)."""

import csv
import random
import sys

CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def credit_code(rng):
    body = "91" + "".join(rng.choice("0123456789") for _ in range(6)) + "".join(rng.choice(CHARS) for _ in range(9))
    s = sum(CHARS.index(c) * w for c, w in zip(body, WEIGHTS))
    return body + CHARS[(31 - s % 31) % 31]


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
CITIES = ["北京", "上海", "深圳", "广州", "杭州", "成都", "武汉", "南京", "Singapore", "Hong Kong"]
PLACES = ["前海", "云栖", "中关村", "张江", "光谷", "天府", "滨江", "望京"]
TRADES = ["科技", "数据", "软件", "贸易", "制造", "医疗", "物流", "教育"]
EN_CO = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay"]
EN_SUF = ["Ltd.", "Inc.", "Co., Ltd.", "Holdings", "Trading LLC"]
INDUSTRIES = ["软件", "金融科技", "云计算", "制造业", "零售", "Logistics", "Healthcare", "教育"]
SOURCES = ["官网", "展会", "客户推荐", "电话营销", "Website", "Referral"]
TAGS = ["重点", "金融", "云", "VIP", "续约", "海外", "key-account", "新客户"]
NOTES = [
    "",
    "",
    "年度框架合同客户",
    "Met at the Shanghai expo; follow up in Q3.",
    '第一次拜访：客户对"方案B"感兴趣，\n需要报价。',
    "Prefers email, not calls.\nDecision maker: CFO.",
    "Says \"call back\" next week, 下周再联系",
]


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(42)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["code", "name", "kind", "industry", "level", "status", "source", "owner", "phone",
                "email", "website", "city", "address", "tags", "credit_code", "notes"])
    for i in range(1, rows + 1):
        if rng.random() < 0.6:
            name = f"{rng.choice(CITIES[:8])}{rng.choice(PLACES)}{rng.choice(TRADES)}有限公司"
            kind = "company"
        elif rng.random() < 0.5:
            name = f"{rng.choice(EN_CO)} {rng.choice(TRADES)} {rng.choice(EN_SUF)}"
            kind = "company"
        else:
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
            kind = "person"
        mobile = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
        city = rng.choice(CITIES)
        w.writerow([
            f"C{i:07d}", name, kind, rng.choice(INDUSTRIES), rng.choice("ABCD"),
            rng.choice(["prospect", "active", "inactive", "lost"]), rng.choice(SOURCES), "admin",
            mobile, f"user{i}@example{i % 97}.com.cn",
            f"https://www.example{i % 1000}.cn" if rng.random() < 0.3 else "",
            city, f"{city}市{rng.choice(PLACES)}路{rng.randint(1, 999)}号",
            ";".join(rng.sample(TAGS, rng.randint(0, 3))),
            credit_code(rng) if rng.random() < 0.2 else "",
            rng.choice(NOTES),
        ])


if __name__ == "__main__":
    main()
