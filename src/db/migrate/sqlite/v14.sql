-- v14 (frozen): credit_code unique when given. The unique index
-- customer_credit_code_unique (`db::credit_unique`) is made after this step by crm, in its
-- transaction, unless customers already share a credit code: then the upgrade warns and goes
-- on without it, and `crm check` lists them and makes the index once they are resolved.
SELECT 1;
