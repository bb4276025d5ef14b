-- v11: the audit triggers' helpers made cheap per row. A bulk edit of 20,000 customers
-- spent 0.6 ms a record in `crm.audit_queue_fields`, nearly all of it planning: SQL
-- functions that cannot be inlined (SET search_path, SECURITY DEFINER, or a FROM clause, or
-- a STABLE call inside an IMMUTABLE body) are planned again at every call from PL/pgSQL.
--
-- `crm.actor()`, `crm.me()`, `crm.my_token()` and `crm.now()` become PL/pgSQL, whose plans
-- are cached for the session; same results, same rights. The test harness may still
-- replace `crm.now()` as the schema's owner (any language).
CREATE OR REPLACE FUNCTION crm.now() RETURNS bigint LANGUAGE plpgsql STABLE
SET search_path = pg_catalog AS $$
BEGIN
  RETURN floor(extract(epoch FROM transaction_timestamp()))::bigint;
END $$;
CREATE OR REPLACE FUNCTION crm.my_token() RETURNS bigint LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, crm AS $$
BEGIN
  RETURN (SELECT tl.token_id FROM crm.token_login tl WHERE tl.role = session_user);
END $$;
CREATE OR REPLACE FUNCTION crm.me() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, crm AS $$
BEGIN
  RETURN coalesce(
    (SELECT u.name FROM crm.login l JOIN crm.users u ON u.id = l.user_id
     WHERE l.role = session_user AND u.disabled = 0),
    (SELECT u.name FROM crm.tokens t JOIN crm.users u ON u.id = t.user_id
     WHERE t.id = crm.my_token() AND u.disabled = 0 AND t.revoked = 0 AND t.expires_at > crm.now()));
END $$;
CREATE OR REPLACE FUNCTION crm.actor() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, crm AS $$
BEGIN
  RETURN coalesce((SELECT 'token:' || t.name FROM crm.tokens t WHERE t.id = crm.my_token()),
                  crm.me(), 'pg:' || session_user);
END $$;
-- The chain's byte strings (v1's rule: 8-byte little-endian length, then the UTF-8 bytes)
-- as one expression, STABLE as `convert_to` is, so the planner inlines it (and `row_hash`).
CREATE OR REPLACE FUNCTION crm.chain_part(p text) RETURNS bytea LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
  SELECT pg_catalog.set_byte(pg_catalog.set_byte(pg_catalog.set_byte(pg_catalog.set_byte(
           '\x0000000000000000'::bytea,
           0, pg_catalog.octet_length(pg_catalog.convert_to(p, 'UTF8')) & 255),
           1, (pg_catalog.octet_length(pg_catalog.convert_to(p, 'UTF8')) >> 8) & 255),
           2, (pg_catalog.octet_length(pg_catalog.convert_to(p, 'UTF8')) >> 16) & 255),
           3, (pg_catalog.octet_length(pg_catalog.convert_to(p, 'UTF8')) >> 24) & 255)
         OPERATOR(pg_catalog.||) pg_catalog.convert_to(p, 'UTF8')
$$;
ALTER FUNCTION crm.row_hash(text, bigint, text, text, text, bigint, text, text, text, text) STABLE;
UPDATE crm.schema_version SET version = 11;
