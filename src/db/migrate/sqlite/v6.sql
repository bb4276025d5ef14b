-- v6 (frozen).
-- Churn reads a customer's first audited status change's `old` value (its status before,
-- which an imported customer's audit log never recorded being set), so the partial index
-- of customer status rows carries `old` too.
--
-- And four customer indexes go, because each costs every write and a million-row import
-- (the v5 ones made `crm import` of a million customers 2.9× `sqlite3 .import`): one
-- index on `(owner, status, created_at)` serves what they served. `customer(owner)` is its
-- prefix; `customer(created_at)` served new customers per period, now counted from the
-- scan of that index churn makes; the `(level, industry, source, city, owner)` profile is
-- counted in one pass over the table instead (those columns lie at the start of each row);
-- and `customer(status)` is not needed for `find --where status=…`, which scans a million
-- customers in a fifth of a second.
DROP INDEX IF EXISTS customer_owner;
DROP INDEX IF EXISTS customer_created;
DROP INDEX IF EXISTS customer_profile;
DROP INDEX IF EXISTS customer_status;
DROP INDEX IF EXISTS audit_customer_status;
CREATE INDEX audit_customer_status ON audit(record_id, at, id, new, old)
            WHERE entity = 'customer' AND field = 'status';
