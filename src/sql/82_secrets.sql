-- Credentials in a table nobody but superusers can read: unlike settings changed with
-- ALTER SYSTEM, they are never written to the server log ("parameter ... changed to ..."), and
-- pg_dump leaves them out.

CREATE TABLE geoetl.secret (
  name text PRIMARY KEY CHECK (name IN ('laads_token', 's3_access_key', 's3_secret_key')
                              OR name ~ '^espi_(token|client_cert|client_key):[0-9]+$'),
  value text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- not in pg_dump's output: set them again after a restore
COMMENT ON TABLE geoetl.secret IS
  'Credentials (superusers only): the LAADS DAAC token, the S3 keys, and each ESPI feed''s access '
  'token and client certificate and key (86_espi_fetch.sql)';
COMMENT ON COLUMN geoetl.secret.name IS
  'laads_token, s3_access_key, s3_secret_key, or espi_token:<feed_id>, espi_client_cert:<feed_id>, espi_client_key:<feed_id>';
COMMENT ON COLUMN geoetl.secret.value IS 'The credential';
COMMENT ON COLUMN geoetl.secret.updated_at IS 'When it was set';
COMMENT ON INDEX geoetl.secret_pkey IS 'One value per credential';

-- A call that fails (a misspelt name, a read-only standby) must not write its statement, and
-- with it the value, to the server log: log_min_error_statement is raised while it runs.
CREATE FUNCTION geoetl.set_secret(name text, value text) RETURNS void LANGUAGE plpgsql
SET log_min_error_statement = panic AS $$
BEGIN
  IF name IS NULL OR name NOT IN ('laads_token', 's3_access_key', 's3_secret_key') THEN
    RAISE EXCEPTION 'unknown secret "%"', name USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Known: laads_token, s3_access_key, s3_secret_key.';
  END IF;
  IF value IS NULL OR value = '' THEN
    DELETE FROM geoetl.secret s WHERE s.name = set_secret.name;
  ELSE
    INSERT INTO geoetl.secret AS s (name, value) VALUES (name, value)
    ON CONFLICT ON CONSTRAINT secret_pkey DO UPDATE SET value = EXCLUDED.value, updated_at = now();
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl.set_secret(text, text) IS
  'Sets (or, with NULL, removes) a credential: laads_token, s3_access_key or s3_secret_key. '
  'Superusers only; takes effect at the next transaction of every session';
