-- A writer that cannot get its locks within 2 s gives up with lock_not_available (55P03), which
-- the service answers with 503 and Retry-After, rather than holding a request until the function
-- times out. A lock_timeout already set for the role or database takes precedence.
CREATE OR REPLACE FUNCTION contact_lock_cluster(identifiers text[], root_ids integer[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  lock_key record;
BEGIN
  IF current_setting('lock_timeout') = '0' THEN
    PERFORM set_config('lock_timeout', '2s', true);
  END IF;
  FOR lock_key IN
    SELECT hashtext('Contact.root') AS space, root_id AS key FROM unnest(root_ids) AS root_id
    UNION
    SELECT hashtext('Contact.identifier'), hashtext(identifier) FROM unnest(identifiers) AS identifier
    ORDER BY 1, 2
  LOOP
    PERFORM pg_advisory_xact_lock(lock_key.space, lock_key.key);
  END LOOP;
END
$$;
