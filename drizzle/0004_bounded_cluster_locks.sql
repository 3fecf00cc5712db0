-- A write locked every leader of its cluster, one advisory lock each. A cluster may have any
-- number of leaders: each secondary of a deleted primary leads its own rows (rule 5), so one
-- phone number shared by 20,000 of them asked for 20,000 locks, and failed with out of shared
-- memory (53200) on every attempt, after filling the lock table that every database shares.
-- Now a write takes at most 16 leader locks, the identifiers' locks, and one lock over all clusters.
--
-- Why writers whose clusters overlap still always conflict (README, Decisions: "Concurrency
-- protocol"): clusters are unions of whole linked components, so two that overlap share a
-- component K, and both read K's leader (every reader of a component agrees on it).
-- - Both have at most 16 leaders: each locks K's leader exclusively.
-- - One has more: it locks all clusters exclusively, and the other, having a leader (K's),
--   locks all clusters too, shared or exclusively.
-- A write with no leader (a new customer) overlaps no cluster and takes identifier locks only, as
-- before. Writes with at most 16 leaders share the lock over all clusters, so they never wait for
-- one another on it; only a write of more than 16 leaders waits for them all, and they for it.
-- That write re-points every row at one primary, so the cluster has one leader after it.
-- Locking only some of the leaders (the oldest, say) would not do: a writer naming a row of a
-- younger component locks that component's leader alone, and the two could write at once.
--
-- lib/identify/store.ts knows the bound too (MAX_LEADER_LOCKS), to tell which locks it holds.

-- The advisory-lock keys of a write, and whether each is taken in share mode.
DROP FUNCTION contact_lock_keys(text[], integer[]);--> statement-breakpoint
CREATE FUNCTION contact_lock_keys(identifiers text[], root_ids integer[])
RETURNS TABLE (space integer, key integer, is_shared boolean)
LANGUAGE sql IMMUTABLE AS $$
  SELECT hashtext('Contact.clusters'), 0, cardinality(root_ids) <= 16
  WHERE cardinality(root_ids) > 0
  UNION
  SELECT hashtext('Contact.root'), root_id, false FROM unnest(root_ids) AS root_id
  WHERE cardinality(root_ids) <= 16
  UNION
  SELECT hashtext('Contact.identifier'), hashtext(identifier), false
  FROM unnest(identifiers) AS identifier
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
  -- In the one global order, by key space, then key, whatever the mode: no cycle of waits.
  FOR lock_key IN SELECT * FROM contact_lock_keys(identifiers, root_ids) ORDER BY space, key LOOP
    IF lock_key.is_shared THEN
      PERFORM pg_advisory_xact_lock_shared(lock_key.space, lock_key.key);
    ELSE
      PERFORM pg_advisory_xact_lock(lock_key.space, lock_key.key);
    END IF;
  END LOOP;
END
$$;--> statement-breakpoint

-- As before: takes every lock that is free at once, without waiting; returns whether it got them.
CREATE OR REPLACE FUNCTION contact_try_lock_cluster(identifiers text[], root_ids integer[])
RETURNS boolean
LANGUAGE sql VOLATILE AS $$
  SELECT coalesce(bool_and(CASE
    WHEN is_shared THEN pg_try_advisory_xact_lock_shared(space, key)
    ELSE pg_try_advisory_xact_lock(space, key)
  END), true)
  FROM contact_lock_keys(identifiers, root_ids)
$$;
