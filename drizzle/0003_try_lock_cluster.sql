-- A locked retry (README, Decisions: "Concurrency protocol") may find its customer led by a row
-- whose lock it does not hold. Waiting for that lock while holding others, out of the global
-- order, could deadlock; contact_try_lock_cluster takes such locks only if they are free.
-- Both lock functions now share one definition of the keys.

-- The advisory-lock keys of a write, in the one global order: by key space, then key.
CREATE FUNCTION contact_lock_keys(identifiers text[], root_ids integer[])
RETURNS TABLE (space integer, key integer)
LANGUAGE sql IMMUTABLE AS $$
  SELECT hashtext('Contact.root'), root_id FROM unnest(root_ids) AS root_id
  UNION
  SELECT hashtext('Contact.identifier'), hashtext(identifier) FROM unnest(identifiers) AS identifier
  ORDER BY 1, 2
$$;--> statement-breakpoint

CREATE OR REPLACE FUNCTION contact_lock_cluster(identifiers text[], root_ids integer[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  lock_key record;
BEGIN
  -- As before: give up after 2 s with lock_not_available (55P03), unless a lock_timeout is set.
  IF current_setting('lock_timeout') = '0' THEN
    PERFORM set_config('lock_timeout', '2s', true);
  END IF;
  -- Ordered here too: a function's ORDER BY does not bind the query that calls it.
  FOR lock_key IN SELECT * FROM contact_lock_keys(identifiers, root_ids) ORDER BY space, key LOOP
    PERFORM pg_advisory_xact_lock(lock_key.space, lock_key.key);
  END LOOP;
END
$$;--> statement-breakpoint

-- Takes every lock that is free at once, without waiting; returns whether it got them all. The
-- ones it got are held until the transaction ends, which the caller makes it do when one is busy.
CREATE FUNCTION contact_try_lock_cluster(identifiers text[], root_ids integer[]) RETURNS boolean
LANGUAGE sql VOLATILE AS $$
  SELECT coalesce(bool_and(pg_try_advisory_xact_lock(space, key)), true)
  FROM contact_lock_keys(identifiers, root_ids)
$$;
