-- v10 (frozen): custom fields (`crm field`, `db::fields`), as SQLite's v15 has them: one row
-- per field a database adds to an entity. The field's values are a column of the entity's
-- table. The tables belong to the schema's owner, so the column is added and dropped by
-- these SECURITY DEFINER functions, which admins alone may run (`security`): each takes a
-- checked name and one of two types, and touches only a column it made itself (a
-- definition row exists only for a column `custom_field_add` added, so `custom_field_drop`
-- cannot drop a built-in one). `custom_audit` gives the audit triggers the custom fields'
-- values of a row, shown as crm shows them. Never edit a shipped step: add a new one.
CREATE TABLE crm.custom_field (
  entity text NOT NULL,
  name text NOT NULL,
  kind text NOT NULL,
  choices text NOT NULL,
  label_en text NOT NULL,
  label_zh text NOT NULL,
  required bigint NOT NULL DEFAULT 0,
  "unique" bigint NOT NULL DEFAULT 0,
  default_value text,
  position bigint NOT NULL,
  created_at bigint NOT NULL,
  created_by text NOT NULL,
  PRIMARY KEY (entity, name)
);
CREATE FUNCTION crm.custom_field_add(p_entity text, p_name text, p_kind text, p_choices text,
    p_label_en text, p_label_zh text, p_required bigint, p_unique bigint, p_default text,
    p_type text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, crm AS $$
BEGIN
  IF p_name !~ '^[a-z][a-z0-9_]{0,39}$' OR p_type NOT IN ('bigint', 'text') THEN
    RAISE EXCEPTION 'bad custom field % %', p_name, p_type USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- Only a record table: the ones whose changes the audit trigger records.
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'crm' AND c.relname = p_entity AND t.tgname = 'audit_row') THEN
    RAISE EXCEPTION 'no entity %', p_entity USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO crm.custom_field (entity, name, kind, choices, label_en, label_zh, required,
      "unique", default_value, position, created_at, created_by)
    SELECT p_entity, p_name, p_kind, p_choices, p_label_en, p_label_zh, p_required, p_unique,
      p_default, COALESCE(MAX(position), 0) + 1, crm.now(), COALESCE(crm.me(), session_user)
    FROM crm.custom_field;
  -- Fails on a built-in column's name: nothing of the call stays.
  EXECUTE format('ALTER TABLE crm.%I ADD COLUMN %I %s', p_entity, p_name, p_type);
  EXECUTE format('CREATE %sINDEX %I ON crm.%I (%I)',
    CASE WHEN p_unique <> 0 THEN 'UNIQUE ' ELSE '' END, 'cf_' || p_entity || '_' || p_name,
    p_entity, p_name);
END $$;
CREATE FUNCTION crm.custom_field_drop(p_entity text, p_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
BEGIN
  DELETE FROM crm.custom_field WHERE entity = p_entity AND name = p_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no custom field %.%', p_entity, p_name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  EXECUTE format('ALTER TABLE crm.%I DROP COLUMN %I', p_entity, p_name);
END $$;
CREATE FUNCTION crm.custom_shown(p_kind text, v text) RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, crm AS $$
  SELECT CASE p_kind WHEN 'money' THEN crm.show_money(v::bigint)
    WHEN 'datetime' THEN crm.show_datetime(v::bigint)
    WHEN 'bool' THEN CASE WHEN v::bigint <> 0 THEN 'true' ELSE 'false' END
    ELSE v END
$$;
-- The custom fields of a row for the audit trigger: names, whether set in the new and old
-- row, whether changed, and the values as crm shows them (money, date-times, booleans).
CREATE FUNCTION crm.custom_audit(p_entity text, p_new jsonb, p_old jsonb,
    OUT fields text[], OUT set_new boolean[], OUT changed boolean[], OUT set_old boolean[],
    OUT news text[], OUT olds text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, crm AS $$
  SELECT COALESCE(array_agg(f.name ORDER BY f.position), '{}'),
    COALESCE(array_agg(v.n IS NOT NULL ORDER BY f.position), '{}'),
    COALESCE(array_agg(v.n IS DISTINCT FROM v.o ORDER BY f.position), '{}'),
    COALESCE(array_agg(v.o IS NOT NULL ORDER BY f.position), '{}'),
    COALESCE(array_agg(crm.custom_shown(f.kind, v.n) ORDER BY f.position), '{}'),
    COALESCE(array_agg(crm.custom_shown(f.kind, v.o) ORDER BY f.position), '{}')
  FROM crm.custom_field f, LATERAL (SELECT p_new ->> f.name AS n, p_old ->> f.name AS o) v
  WHERE f.entity = p_entity
$$;
REVOKE ALL ON FUNCTION crm.custom_field_add(text, text, text, text, text, text, bigint, bigint, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.custom_field_drop(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION crm.custom_audit(text, jsonb, jsonb) FROM PUBLIC;
UPDATE crm.schema_version SET version = 10;
