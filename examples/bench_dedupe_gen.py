#!/usr/bin/env python3
"""Customers with planted duplicates for `examples/bench_dedupe.sh`: distinct company names
(a city, two to three characters from a wide pool, a trade, a company-form suffix), and about
2 % planted near and exact duplicates of earlier rows: the suffix changed or bracketed,
full-width letters, spaces, one character mistyped. Writes the CSV to stdout and the planted
pairs (code, code) to the file named by the second argument.
Usage: bench_dedupe_gen.py ROWS PAIRS.txt > customers.csv"""

import csv
import random
import sys

POOL = "安邦宝北博彩昌辰成诚创达大德鼎东方飞丰福富冠光广海瀚航禾和恒弘宏鸿华辉汇佳嘉健金锦京晶聚凯康科蓝雷力立联良林隆龙茂美明铭南宁鹏启千强庆瑞锐润森山尚晟盛世泰腾天通同万维伟文祥翔新鑫信兴星旭亚扬耀一益易银英永优宇远悦云泽长兆正志智中众卓"
CITIES = ["北京", "上海", "深圳", "广州", "杭州", "成都", "武汉", "南京", "苏州", "西安", "重庆", "天津"]
TRADES = ["科技", "数据", "软件", "贸易", "制造", "医疗", "物流", "教育", "网络", "电子", "能源", "食品"]
SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司", "集团有限公司", "集团"]
EN = ["Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Cyberdyne"]


def fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def variant(rng, name, base, suffix):
    kind = rng.randrange(4)
    if kind == 0:  # another or a bracketed suffix
        return rng.choice([base, f"{base}（{suffix}）", f"{base} ({suffix})", base + rng.choice(SUFFIXES)])
    if kind == 1:  # full-width forms
        return fullwidth(name) if any(c.isascii() and c.isalpha() for c in name) else name.replace("(", "（")
    if kind == 2:  # spacing
        i = rng.randrange(1, len(base))
        return base[:i] + " " + base[i:] + suffix
    # one character mistyped (not in the first two, so the city stays)
    i = rng.randrange(2, len(base))
    return base[:i] + rng.choice(POOL) + base[i + 1:] + suffix


def main():
    rows = int(sys.argv[1])
    pairs = open(sys.argv[2], "w")
    rng = random.Random(7)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["code", "name", "phone", "city"])
    made = []
    seen = set()
    for i in range(1, rows + 1):
        code = f"B{i:07d}"
        city = rng.choice(CITIES)
        phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
        if made and rng.random() < 0.02:
            j = rng.randrange(len(made))
            ocode, oname, obase, osuf, ocity = made[j]
            name = variant(rng, oname, obase, osuf)
            pairs.write(f"{ocode},{code}\n")
            w.writerow([code, name, phone, ocity])
            continue
        while True:
            if rng.random() < 0.15:
                base = f"{rng.choice(EN)} {''.join(rng.choice(POOL) for _ in range(3))}{rng.choice(TRADES)}"
                suffix = rng.choice([" Co., Ltd.", " Inc.", " LLC", " Limited"])
            else:
                base = city + "".join(rng.choice(POOL) for _ in range(rng.randint(2, 3))) + rng.choice(TRADES)
                suffix = rng.choice(SUFFIXES)
            if base not in seen:
                seen.add(base)
                break
        name = base + suffix
        made.append((code, name, base, suffix, city))
        w.writerow([code, name, phone, city])


main()
