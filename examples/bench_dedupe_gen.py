#!/usr/bin/env python3
"""Customers with planted duplicates for `examples/bench_dedupe.sh`: distinct company names
(a city, two to three characters from a wide pool, a trade, a company-form suffix), and about
2 % planted near and exact duplicates of earlier rows: the suffix changed or bracketed,
full-width letters, spaces, one character mistyped. Writes the CSV to stdout and the planted
pairs (code, code) to the file named by the second argument.

Distinct companies are kept distinct: a new name whose folded form (lower case, no spaces)
is within one edit (a substitution, insertion, deletion or swap of neighbours) of an earlier
company's is drawn again, and no two companies share a phone. Without this, a million rows
drawn from a 170-character pool hold millions of pairs of *different* companies one
character apart (measured: 107,206 such pairs among 100,000 rows, 36 among 2,000) — the very
difference a planted one-character typo makes — and the benchmark would score every finder
of typos as imprecise for telling apart what nothing tells apart.
Usage: bench_dedupe_gen.py ROWS PAIRS.txt > customers.csv"""

import csv
import hashlib
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


class Names:
    """Folded names taken so far, kept so that "within one edit of a taken name" is a few
    look-ups: each name whole, and with one character left out at each place (a
    substitution shares such a hole; a name one character shorter is one). The sets are a
    Bloom filter (128 MiB, a deterministic hash) so that a million rows fit in memory: a
    false hit only draws a name again."""

    BITS = 1 << 30

    def __init__(self):
        self.bloom = bytearray(self.BITS // 8)

    def _spots(self, tag, k):
        h = int.from_bytes(hashlib.blake2b(f"{tag}\x1f{k}".encode(), digest_size=8).digest(), "little")
        return (h & (self.BITS - 1), (h >> 32) & (self.BITS - 1))

    def _has(self, tag, k):
        return all(self.bloom[b >> 3] & (1 << (b & 7)) for b in self._spots(tag, k))

    def _add(self, tag, k):
        for b in self._spots(tag, k):
            self.bloom[b >> 3] |= 1 << (b & 7)

    @staticmethod
    def fold(base):
        return base.lower().replace(" ", "")

    def near(self, base):
        k = self.fold(base)
        if self._has("=", k):
            return True
        for i in range(len(k) + 1):
            if self._has(i, k):
                return True  # a taken name is k with one character more, at i
        for i in range(len(k)):
            rest = k[:i] + k[i + 1:]
            if self._has(i, rest) or self._has("=", rest):
                return True  # one substitution at i, or a taken name one character shorter
        for i in range(len(k) - 1):
            if self._has("=", k[:i] + k[i + 1] + k[i] + k[i + 2:]):
                return True  # two neighbours swapped
        return False

    def take(self, base):
        k = self.fold(base)
        self._add("=", k)
        for i in range(len(k)):
            self._add(i, k[:i] + k[i + 1:])


def main():
    rows = int(sys.argv[1])
    pairs = open(sys.argv[2], "w")
    rng = random.Random(7)
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["code", "name", "phone", "city"])
    made = []
    names = Names()
    phones = set()
    for i in range(1, rows + 1):
        code = f"B{i:07d}"
        city = rng.choice(CITIES)
        while True:
            phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
            if phone not in phones:
                phones.add(phone)
                break
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
            if not names.near(base):
                names.take(base)
                break
        name = base + suffix
        made.append((code, name, base, suffix, city))
        w.writerow([code, name, phone, city])


main()
