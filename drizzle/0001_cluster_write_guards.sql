-- Guards for the optimistic write protocol (README, Decisions: "Concurrency protocol").
-- Each write batch first calls contact_lock_cluster, then contact_assert_cluster_version in a
-- separate statement, so that at READ COMMITTED the check sees every row committed while the
-- batch waited for its locks.

-- Takes transaction-scoped advisory locks on every customer leader (README: a root, or a cycle's
-- oldest row) and every identifier of a request, always in one global order (by key space, then
-- key), so two writers can never wait on each other in a cycle.
CREATE FUNCTION contact_lock_cluster(identifiers text[], root_ids integer[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  lock_key record;
BEGIN
  -- A writer that cannot get its locks within 2 s gives up with lock_not_available (55P03), which
  -- the service answers with 503 and Retry-After, rather than holding a request until the function
  -- times out. A lock_timeout already set for the role or database takes precedence.
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
$$;--> statement-breakpoint

-- Aborts the transaction with serialization_failure (40001), which the service retries, when the
-- cluster it is about to rewrite is no longer the one it read.
CREATE FUNCTION contact_assert_cluster_version(expected text, actual text) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF expected IS DISTINCT FROM actual THEN
    RAISE EXCEPTION 'Contact cluster changed after it was read'
      USING ERRCODE = 'serialization_failure';
  END IF;
END
$$;
