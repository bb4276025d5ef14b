-- v1 (frozen): users, sessions, the append-only audit log with its two triggers
-- (migrate::TRIGGERS), and one table per entity with indexes on its references, users
-- and status, as crm generated them from the registry when this step shipped.
-- Never edit a shipped step: add a new one.
-- Whitespace inside a statement is kept as it shipped: sqlite_master stores each
-- statement's text, and files made by earlier builds hold exactly this text.
PRAGMA application_id = 1129467185;
CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            failed_logins INTEGER NOT NULL DEFAULT 0,
            locked_until INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) STRICT;
CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            revoked INTEGER NOT NULL DEFAULT 0
        ) STRICT;
CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            user TEXT,
            action TEXT NOT NULL,
            entity TEXT,
            record_id INTEGER,
            field TEXT,
            old TEXT,
            new TEXT,
            detail TEXT,
            hash TEXT NOT NULL
        ) STRICT;
CREATE INDEX audit_entity ON audit(entity, record_id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE "customer" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "code" TEXT UNIQUE,
  "name" TEXT,
  "kind" TEXT,
  "industry" TEXT,
  "level" TEXT,
  "status" TEXT,
  "source" TEXT,
  "owner" TEXT,
  "phone" TEXT,
  "email" TEXT,
  "website" TEXT,
  "city" TEXT,
  "address" TEXT,
  "tags" TEXT,
  "credit_code" TEXT,
  "notes" TEXT,
  "segment" TEXT,
  "last_contacted_at" INTEGER,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
) STRICT;
CREATE INDEX "customer_status" ON "customer"("status");
CREATE INDEX "customer_owner" ON "customer"("owner");
CREATE TABLE "contact" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "customer" INTEGER REFERENCES "customer"("id"),
  "name" TEXT,
  "title" TEXT,
  "phone" TEXT,
  "mobile" TEXT,
  "email" TEXT,
  "wechat" TEXT,
  "is_primary" INTEGER,
  "notes" TEXT,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
) STRICT;
CREATE INDEX "contact_customer" ON "contact"("customer");
CREATE TABLE "campaign" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "name" TEXT UNIQUE,
  "type" TEXT,
  "status" TEXT,
  "start_date" TEXT,
  "end_date" TEXT,
  "budget" INTEGER,
  "actual_cost" INTEGER,
  "expected_revenue" INTEGER,
  "owner" TEXT,
  "notes" TEXT,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
) STRICT;
CREATE INDEX "campaign_status" ON "campaign"("status");
CREATE INDEX "campaign_owner" ON "campaign"("owner");
CREATE TABLE "lead" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "name" TEXT,
  "company" TEXT,
  "phone" TEXT,
  "email" TEXT,
  "source" TEXT,
  "campaign" INTEGER REFERENCES "campaign"("id"),
  "status" TEXT,
  "owner" TEXT,
  "notes" TEXT,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
) STRICT;
CREATE INDEX "lead_campaign" ON "lead"("campaign");
CREATE INDEX "lead_status" ON "lead"("status");
CREATE INDEX "lead_owner" ON "lead"("owner");
CREATE TABLE "opportunity" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "customer" INTEGER REFERENCES "customer"("id"),
  "name" TEXT,
  "stage" TEXT,
  "amount" INTEGER,
  "currency" TEXT,
  "probability" INTEGER,
  "expected_close" TEXT,
  "owner" TEXT,
  "source" TEXT,
  "campaign" INTEGER REFERENCES "campaign"("id"),
  "lost_reason" TEXT,
  "closed_at" INTEGER,
  "notes" TEXT,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
) STRICT;
CREATE INDEX "opportunity_customer" ON "opportunity"("customer");
CREATE INDEX "opportunity_owner" ON "opportunity"("owner");
CREATE INDEX "opportunity_campaign" ON "opportunity"("campaign");
CREATE TABLE "product" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "code" TEXT UNIQUE,
  "name" TEXT,
  "unit_price" INTEGER,
  "unit" TEXT,
  "active" INTEGER,
  "notes" TEXT,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
) STRICT;
CREATE TABLE "quote" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "number" TEXT UNIQUE,
  "customer" INTEGER REFERENCES "customer"("id"),
  "opportunity" INTEGER REFERENCES "opportunity"("id"),
  "valid_until" TEXT,
  "status" TEXT,
  "amount" INTEGER,
  "currency" TEXT,
  "owner" TEXT,
  "notes" TEXT,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
) STRICT;
CREATE INDEX "quote_customer" ON "quote"("customer");
CREATE INDEX "quote_opportunity" ON "quote"("opportunity");
CREATE INDEX "quote_status" ON "quote"("status");
CREATE INDEX "quote_owner" ON "quote"("owner");
CREATE TABLE "quote_line" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "quote" INTEGER REFERENCES "quote"("id"),
  "product" INTEGER REFERENCES "product"("id"),
  "quantity" INTEGER,
  "unit_price" INTEGER,
  "discount" INTEGER,
  "amount" INTEGER,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
) STRICT;
CREATE INDEX "quote_line_quote" ON "quote_line"("quote");
CREATE INDEX "quote_line_product" ON "quote_line"("product");
CREATE TABLE "order" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "number" TEXT UNIQUE,
  "customer" INTEGER REFERENCES "customer"("id"),
  "opportunity" INTEGER REFERENCES "opportunity"("id"),
  "quote" INTEGER REFERENCES "quote"("id"),
  "order_date" TEXT,
  "status" TEXT,
  "amount" INTEGER,
  "currency" TEXT,
  "owner" TEXT,
  "notes" TEXT,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
) STRICT;
CREATE INDEX "order_customer" ON "order"("customer");
CREATE INDEX "order_opportunity" ON "order"("opportunity");
CREATE INDEX "order_quote" ON "order"("quote");
CREATE INDEX "order_status" ON "order"("status");
CREATE INDEX "order_owner" ON "order"("owner");
CREATE TABLE "order_line" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "order" INTEGER REFERENCES "order"("id"),
  "product" INTEGER REFERENCES "product"("id"),
  "quantity" INTEGER,
  "unit_price" INTEGER,
  "discount" INTEGER,
  "amount" INTEGER,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
) STRICT;
CREATE INDEX "order_line_order" ON "order_line"("order");
CREATE INDEX "order_line_product" ON "order_line"("product");
CREATE TABLE "contract" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "number" TEXT UNIQUE,
  "customer" INTEGER REFERENCES "customer"("id"),
  "title" TEXT,
  "amount" INTEGER,
  "currency" TEXT,
  "signed_date" TEXT,
  "start_date" TEXT,
  "end_date" TEXT,
  "status" TEXT,
  "owner" TEXT,
  "notes" TEXT,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
) STRICT;
CREATE INDEX "contract_customer" ON "contract"("customer");
CREATE INDEX "contract_status" ON "contract"("status");
CREATE INDEX "contract_owner" ON "contract"("owner");
CREATE TABLE "activity" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "customer" INTEGER REFERENCES "customer"("id"),
  "contact" INTEGER REFERENCES "contact"("id"),
  "opportunity" INTEGER REFERENCES "opportunity"("id"),
  "type" TEXT,
  "subject" TEXT,
  "due_at" INTEGER,
  "done_at" INTEGER,
  "owner" TEXT,
  "notes" TEXT,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
) STRICT;
CREATE INDEX "activity_customer" ON "activity"("customer");
CREATE INDEX "activity_contact" ON "activity"("contact");
CREATE INDEX "activity_opportunity" ON "activity"("opportunity");
CREATE INDEX "activity_owner" ON "activity"("owner");
CREATE TABLE "ticket" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "number" TEXT UNIQUE,
  "customer" INTEGER REFERENCES "customer"("id"),
  "contact" INTEGER REFERENCES "contact"("id"),
  "type" TEXT,
  "subject" TEXT,
  "priority" TEXT,
  "status" TEXT,
  "assignee" TEXT,
  "opened_at" INTEGER,
  "resolved_at" INTEGER,
  "satisfaction" INTEGER,
  "notes" TEXT,
  "created_at" INTEGER NOT NULL,
  "updated_at" INTEGER NOT NULL
) STRICT;
CREATE INDEX "ticket_customer" ON "ticket"("customer");
CREATE INDEX "ticket_contact" ON "ticket"("contact");
CREATE INDEX "ticket_status" ON "ticket"("status");
CREATE INDEX "ticket_assignee" ON "ticket"("assignee");
