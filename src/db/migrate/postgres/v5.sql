-- v5 (frozen): the search index of `crm find` and `crm search` (`db::search`), as SQLite's
-- v9 has it: per entity with searchable fields, one row per record holding the tokens of
-- its searchable values and the pinyin keys of its name (those marked with a leading `·`),
-- all cut by crm (`search::tokens`, `search::pinyin`) and stored as they are: crm makes
-- each row's tsvector with `array_to_tsvector` (no parser, no dictionary: a lexeme is a
-- token), so both engines hold the same tokens. A GIN index answers a `tsquery` of those
-- tokens, prefixes too (`'zha':*`). The row goes with its record (ON DELETE CASCADE);
-- crm writes it in the transaction of every other change, and the upgrade that applies
-- this step indexes the records already there (`db::search::build`). Row security and
-- grants are generated with the entity's (`migrate::postgres::search_security`).
-- Never edit a shipped step: add a new one.
CREATE TABLE crm."customer_search" ("id" bigint PRIMARY KEY REFERENCES crm."customer" ("id") ON DELETE CASCADE, "t" tsvector NOT NULL);
CREATE INDEX "customer_search_t" ON crm."customer_search" USING gin ("t");
CREATE TABLE crm."contact_search" ("id" bigint PRIMARY KEY REFERENCES crm."contact" ("id") ON DELETE CASCADE, "t" tsvector NOT NULL);
CREATE INDEX "contact_search_t" ON crm."contact_search" USING gin ("t");
CREATE TABLE crm."campaign_search" ("id" bigint PRIMARY KEY REFERENCES crm."campaign" ("id") ON DELETE CASCADE, "t" tsvector NOT NULL);
CREATE INDEX "campaign_search_t" ON crm."campaign_search" USING gin ("t");
CREATE TABLE crm."lead_search" ("id" bigint PRIMARY KEY REFERENCES crm."lead" ("id") ON DELETE CASCADE, "t" tsvector NOT NULL);
CREATE INDEX "lead_search_t" ON crm."lead_search" USING gin ("t");
CREATE TABLE crm."opportunity_search" ("id" bigint PRIMARY KEY REFERENCES crm."opportunity" ("id") ON DELETE CASCADE, "t" tsvector NOT NULL);
CREATE INDEX "opportunity_search_t" ON crm."opportunity_search" USING gin ("t");
CREATE TABLE crm."product_search" ("id" bigint PRIMARY KEY REFERENCES crm."product" ("id") ON DELETE CASCADE, "t" tsvector NOT NULL);
CREATE INDEX "product_search_t" ON crm."product_search" USING gin ("t");
CREATE TABLE crm."quote_search" ("id" bigint PRIMARY KEY REFERENCES crm."quote" ("id") ON DELETE CASCADE, "t" tsvector NOT NULL);
CREATE INDEX "quote_search_t" ON crm."quote_search" USING gin ("t");
CREATE TABLE crm."order_search" ("id" bigint PRIMARY KEY REFERENCES crm."order" ("id") ON DELETE CASCADE, "t" tsvector NOT NULL);
CREATE INDEX "order_search_t" ON crm."order_search" USING gin ("t");
CREATE TABLE crm."contract_search" ("id" bigint PRIMARY KEY REFERENCES crm."contract" ("id") ON DELETE CASCADE, "t" tsvector NOT NULL);
CREATE INDEX "contract_search_t" ON crm."contract_search" USING gin ("t");
CREATE TABLE crm."activity_search" ("id" bigint PRIMARY KEY REFERENCES crm."activity" ("id") ON DELETE CASCADE, "t" tsvector NOT NULL);
CREATE INDEX "activity_search_t" ON crm."activity_search" USING gin ("t");
CREATE TABLE crm."ticket_search" ("id" bigint PRIMARY KEY REFERENCES crm."ticket" ("id") ON DELETE CASCADE, "t" tsvector NOT NULL);
CREATE INDEX "ticket_search_t" ON crm."ticket_search" USING gin ("t");
-- This step's number, as every step after the first writes it.
UPDATE crm.schema_version SET version = 5;
