-- v6 (frozen): credit_code unique when given, as SQLite's v12: the partial unique index
-- crm.customer_credit_code_unique (`db::credit_unique`) is made after this step by crm, in
-- its transaction, unless customers already share a credit code (then a warning; `crm
-- check` lists them and makes the index once they are resolved).
SELECT 1;
