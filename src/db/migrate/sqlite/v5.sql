-- v5 (frozen).
-- Indexes that keep `crm report` under a second on a million customers: covering indexes
-- for the period breakdowns (orders by date, follow-ups by done and due time), the
-- customer dimensions (one profile index counts level, industry, source and city at
-- once), the status history in the audit log (partial: only customer status rows), and stage history walked in (opportunity, time) order. The v3 index on
-- `opportunity_stage(opportunity, entered_at)` is a prefix of the new one, so it goes.
DROP INDEX IF EXISTS opportunity_stage_opp;
CREATE INDEX IF NOT EXISTS opportunity_stage_walk ON opportunity_stage(opportunity, entered_at, id, stage);
CREATE INDEX IF NOT EXISTS audit_customer_status ON audit(record_id, at, id, new)
            WHERE entity = 'customer' AND field = 'status';
CREATE INDEX IF NOT EXISTS customer_created ON "customer"(created_at);
CREATE INDEX IF NOT EXISTS customer_owner_status_created ON "customer"(owner, status, created_at);
CREATE INDEX IF NOT EXISTS customer_profile ON "customer"(level, industry, source, city, owner);
CREATE INDEX IF NOT EXISTS activity_done ON "activity"(done_at, customer);
CREATE INDEX IF NOT EXISTS activity_owner_done ON "activity"(owner, done_at);
CREATE INDEX IF NOT EXISTS activity_owner_due ON "activity"(owner, due_at, done_at);
CREATE INDEX IF NOT EXISTS order_date_cover ON "order"(order_date, status, owner, customer, amount);
CREATE INDEX IF NOT EXISTS ticket_opened ON "ticket"(opened_at);
