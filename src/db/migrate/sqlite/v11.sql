-- v11 (frozen): the search index of `crm find` and `crm search` (`db::search`): one
-- contentless FTS5 table per entity with searchable fields, its rowid the record's id,
-- its one column the tokens of the searchable values and the pinyin keys of its name (those
-- marked with a leading `·`), all cut by crm (`search::tokens`, `search::pinyin`), so the
-- `ascii` tokenizer only splits at the spaces between them. `detail=none`: no positions, a fraction of the size; deletes by
-- rowid (`contentless_delete`). crm fills the tables in the transaction of every write;
-- this step's build (`db::search::build`) fills them for the records already there.
CREATE VIRTUAL TABLE IF NOT EXISTS "customer_search" USING fts5(t, content='', contentless_delete=1, detail=none, tokenize='ascii');
CREATE VIRTUAL TABLE IF NOT EXISTS "contact_search" USING fts5(t, content='', contentless_delete=1, detail=none, tokenize='ascii');
CREATE VIRTUAL TABLE IF NOT EXISTS "campaign_search" USING fts5(t, content='', contentless_delete=1, detail=none, tokenize='ascii');
CREATE VIRTUAL TABLE IF NOT EXISTS "lead_search" USING fts5(t, content='', contentless_delete=1, detail=none, tokenize='ascii');
CREATE VIRTUAL TABLE IF NOT EXISTS "opportunity_search" USING fts5(t, content='', contentless_delete=1, detail=none, tokenize='ascii');
CREATE VIRTUAL TABLE IF NOT EXISTS "product_search" USING fts5(t, content='', contentless_delete=1, detail=none, tokenize='ascii');
CREATE VIRTUAL TABLE IF NOT EXISTS "quote_search" USING fts5(t, content='', contentless_delete=1, detail=none, tokenize='ascii');
CREATE VIRTUAL TABLE IF NOT EXISTS "order_search" USING fts5(t, content='', contentless_delete=1, detail=none, tokenize='ascii');
CREATE VIRTUAL TABLE IF NOT EXISTS "contract_search" USING fts5(t, content='', contentless_delete=1, detail=none, tokenize='ascii');
CREATE VIRTUAL TABLE IF NOT EXISTS "activity_search" USING fts5(t, content='', contentless_delete=1, detail=none, tokenize='ascii');
CREATE VIRTUAL TABLE IF NOT EXISTS "ticket_search" USING fts5(t, content='', contentless_delete=1, detail=none, tokenize='ascii');
