-- v9 (frozen): credit_code unique when given, as SQLite's v14: the unique index
-- crm.customer_credit_code_unique (`db::credit_unique`), unless customers already share a
-- credit code — then crm warns after this step, naming them, and `crm check` lists them and
-- makes the index once they are resolved. NULLs never collide: "unique when given".
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM crm.customer WHERE credit_code IS NOT NULL
                 GROUP BY credit_code HAVING count(*) > 1) THEN
    CREATE UNIQUE INDEX customer_credit_code_unique ON crm.customer (credit_code);
  END IF;
END $$;

-- This step's number, as every step after the first writes it.
UPDATE crm.schema_version SET version = 9;
