-- Trusted functions: how geoetl writes the tables that steer code (jobs, job kinds, window
-- pipelines) for a caller. Nobody but the extension's owner may write those tables directly.
-- geoetl._trusted_call(fn, args) runs geoetl._trusted_<name>(caller regrole, args jsonb) as the
-- extension's owner with the role that really called (a SECURITY DEFINER function cannot tell
-- who called it). Each trusted function checks that caller may do what it asks, reads only
-- geoetl's tables and the system catalogs, and never evaluates a user's object.

CREATE FUNCTION geoetl._trusted_call(fn regprocedure, args jsonb) RETURNS jsonb
AS 'MODULE_PATHNAME', 'geoetl_trusted_call' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION geoetl._trusted_call(regprocedure, jsonb) IS
  'Internal: runs geoetl._trusted_<name>(caller, args) as the extension''s owner, caller being the role that called';

-- Raises 42501 unless caller is a member of role (superusers are members of every role).
CREATE FUNCTION geoetl._require_member(caller regrole, role name, what text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF NOT pg_catalog.pg_has_role(caller, role, 'MEMBER') THEN
    RAISE EXCEPTION 'permission denied to %', what USING ERRCODE = 'insufficient_privilege',
      HINT = format('It needs the role %s.', role);
  END IF;
END
$$;
COMMENT ON FUNCTION geoetl._require_member(regrole, name, text) IS
  'Internal: raises 42501 (permission denied to what) unless caller is a member of role';
