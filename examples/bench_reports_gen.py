#!/usr/bin/env python3
"""Fills a crm database (made by `crm init`) with benchmark data for `crm report`:
1,000,000 customers (with their status history in the audit log), 1,000,000 activities,
200,000 opportunities with stage history, 300,000 orders, 100,000 tickets and 50,000
contracts, spread over the two years before AS_OF. Deterministic (fixed seed).

Bulk rows go straight in with the sqlite3 module, bypassing crm's rules; the status-history
audit rows are chained as crm chains them (so `crm copy` moves the set to PostgreSQL and
`crm audit --verify` passes): this is load for timing,
not data to verify. Usage: bench_reports_gen.py DB [SCALE]  (SCALE 1.0 = the sizes above).
"""
import random
import hashlib
import sqlite3
import sys
import time
from datetime import date, datetime, timedelta, timezone

DB = sys.argv[1]
SCALE = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
AS_OF = datetime(2026, 11, 25, tzinfo=timezone(timedelta(hours=8)))
END = int(AS_OF.timestamp())
START = END - 2 * 365 * 86400
N_CUST = int(1_000_000 * SCALE)
N_ACT = int(1_000_000 * SCALE)
N_OPP = int(200_000 * SCALE)
N_ORD = int(300_000 * SCALE)
N_TIC = int(100_000 * SCALE)
N_CON = int(50_000 * SCALE)

rnd = random.Random(42)
OWNERS = [f"sales{i}" for i in range(1, 21)]
CITIES = ["北京", "上海", "深圳", "广州", "杭州", "成都", "武汉", "南京", "西安", "重庆"] + [f"城市{i}" for i in range(190)]
INDUSTRIES = ["制造", "零售", "金融", "教育", "医疗", "互联网", "物流", "能源", "政府", "其他"]
SOURCES = ["referral", "website", "campaign", "call", "exhibition", "other"]
STAGES = ["prospecting", "qualification", "proposal", "negotiation", "won", "lost"]
PROB = {"prospecting": 10, "qualification": 25, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0}


def ts():
    return rnd.randint(START, END)


def day(t):
    return datetime.fromtimestamp(t, timezone(timedelta(hours=8))).strftime("%Y-%m-%d")


con = sqlite3.connect(DB)
con.execute("PRAGMA journal_mode=WAL")
con.execute("PRAGMA synchronous=OFF")
con.execute("BEGIN")
t0 = time.time()

customers = []
audit = []
for i in range(1, N_CUST + 1):
    created = ts()
    first = rnd.choice(["prospect", "active", "active", "active"])
    status = first
    audit.append((created, "bench", "create", "customer", i, "status", None, first, None, "bench"))
    if first == "active" and rnd.random() < 0.15:
        at = rnd.randint(created, END)
        status = rnd.choice(["lost", "inactive"])
        audit.append((at, "bench", "update", "customer", i, "status", first, status, None, "bench"))
    customers.append((i, f"C{i:07d}", f"客户{i}有限公司", "company", rnd.choice(INDUSTRIES),
                      rnd.choice("ABCD"), status, rnd.choice(SOURCES), rnd.choice(OWNERS),
                      rnd.choice(CITIES), created, created))
con.executemany(
    'INSERT INTO customer (id, code, name, kind, industry, level, status, source, owner, city, created_at, updated_at) '
    'VALUES (?,?,?,?,?,?,?,?,?,?,?,?)', customers)
audit.sort(key=lambda a: a[0])
# Chained as `db::audit::row_hash`: SHA-256 over each part's length (8 bytes, little-endian)
# and UTF-8 bytes, the previous row's hash first.
prev = (con.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone() or ("",))[0]
chained = []
for a in audit:
    h = hashlib.sha256()
    for part in (prev, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]):
        b = ("" if part is None else str(part)).encode()
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    prev = h.hexdigest()
    chained.append(a[:9] + (prev,))
audit = chained
con.executemany(
    "INSERT INTO audit (at, user, action, entity, record_id, field, old, new, detail, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
    audit)
del customers, audit
print(f"customers {time.time() - t0:.1f}s", file=sys.stderr)

opps, hist = [], []
for i in range(1, N_OPP + 1):
    created = ts()
    reach = rnd.choices(range(5), weights=[35, 25, 20, 12, 8])[0]
    t = created
    for s in range(reach + 1):
        hist.append((i, STAGES[s], t))
        t += rnd.randint(86400, 20 * 86400)
    stage = STAGES[reach]
    closed = None
    if reach < 4 and rnd.random() < 0.4:
        stage = "lost"
        hist.append((i, "lost", t))
        closed = t
    elif reach == 4:
        closed = hist[-1][2]
    amount = rnd.randint(1000, 5_000_000) * 100
    opps.append((i, rnd.randint(1, N_CUST), f"机会{i}", stage, amount, "CNY", PROB[stage],
                 day(created + rnd.randint(0, 180) * 86400), rnd.choice(OWNERS), closed, created, t))
con.executemany(
    "INSERT INTO opportunity (id, customer, name, stage, amount, currency, probability, expected_close, owner, closed_at, created_at, updated_at) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", opps)
con.executemany("INSERT INTO opportunity_stage (opportunity, stage, entered_at) VALUES (?,?,?)", hist)
del opps, hist
print(f"opportunities {time.time() - t0:.1f}s", file=sys.stderr)

orders = []
for i in range(1, N_ORD + 1):
    t = ts()
    orders.append((i, f"SO{i:07d}", rnd.randint(1, N_CUST // 3), day(t),
                   rnd.choices(["draft", "confirmed", "shipped", "paid", "cancelled"], weights=[5, 20, 20, 50, 5])[0],
                   rnd.randint(100, 2_000_000) * 100 + rnd.randint(0, 99), "CNY", rnd.choice(OWNERS), t, t))
con.executemany(
    'INSERT INTO "order" (id, number, customer, order_date, status, amount, currency, owner, created_at, updated_at) '
    "VALUES (?,?,?,?,?,?,?,?,?,?)", orders)
del orders

acts = []
for i in range(1, N_ACT + 1):
    due = ts()
    done = None if rnd.random() < 0.2 else due + rnd.randint(-3 * 86400, 5 * 86400)
    acts.append((i, rnd.randint(1, N_CUST), rnd.choice(["call", "visit", "meeting", "email", "wechat"]),
                 f"跟进{i}", due, done, rnd.choice(OWNERS), due - 86400, due - 86400))
con.executemany(
    "INSERT INTO activity (id, customer, type, subject, due_at, done_at, owner, created_at, updated_at) "
    "VALUES (?,?,?,?,?,?,?,?,?)", acts)
del acts
print(f"orders, activities {time.time() - t0:.1f}s", file=sys.stderr)

tickets = []
for i in range(1, N_TIC + 1):
    opened = ts()
    resolved = None if rnd.random() < 0.15 else opened + rnd.randint(600, 10 * 86400)
    tickets.append((i, f"T{i:07d}", rnd.randint(1, N_CUST),
                    rnd.choice(["inquiry", "complaint", "repair", "return", "other"]), f"工单{i}",
                    rnd.choice(["low", "normal", "high", "urgent"]),
                    "resolved" if resolved else rnd.choice(["new", "open", "pending"]),
                    rnd.choice(OWNERS), opened, resolved, rnd.randint(1, 5) if resolved and rnd.random() < 0.6 else None,
                    opened, opened))
con.executemany(
    "INSERT INTO ticket (id, number, customer, type, subject, priority, status, assignee, opened_at, resolved_at, satisfaction, created_at, updated_at) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", tickets)
del tickets

contracts = []
for i in range(1, N_CON + 1):
    start = date(2024, 11, 25) + timedelta(days=rnd.randint(0, 730))
    end = start + timedelta(days=rnd.choice([180, 365, 730]))
    contracts.append((i, f"HT{i:07d}", rnd.randint(1, N_CUST // 10), f"合同{i}", rnd.randint(1000, 900_000) * 100,
                      "CNY", start.isoformat(), start.isoformat(), end.isoformat(),
                      rnd.choice(["draft", "active", "active", "terminated"]), rnd.choice(OWNERS), END, END))
con.executemany(
    "INSERT INTO contract (id, number, customer, title, amount, currency, signed_date, start_date, end_date, status, owner, created_at, updated_at) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", contracts)
con.commit()
print(f"done {time.time() - t0:.1f}s", file=sys.stderr)
