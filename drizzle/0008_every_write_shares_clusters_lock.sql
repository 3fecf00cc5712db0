-- A backfill (npm run backfill) rewrites many customers in one transaction, and takes the lock over
-- all clusters exclusively for it. Writes with at most 16 leaders already shared that lock and so
-- waited for it; a new customer's write (no leader) took its identifier locks only, and could
-- insert a row holding an identifier the backfill was inserting too: two customers for one value.
-- Now every write shares the lock over all clusters, a new customer's included. Writers still
-- never wait for one another on it (shared with shared); only an exclusive holder (a write of more
-- than 16 leaders, a backfill) makes them wait, for at most lock_timeout (2 s), then 503 busy.
-- The order of the keys is unchanged (space, then key), so no new cycle of waits is possible.
CREATE OR REPLACE FUNCTION contact_lock_keys(identifiers text[], root_ids integer[])
RETURNS TABLE (space integer, key integer, is_shared boolean)
LANGUAGE sql IMMUTABLE AS $$
  SELECT hashtext('Contact.clusters'), 0, cardinality(root_ids) <= 16
  UNION
  SELECT hashtext('Contact.root'), root_id, false FROM unnest(root_ids) AS root_id
  WHERE cardinality(root_ids) <= 16
  UNION
  SELECT hashtext('Contact.identifier'), hashtext(identifier), false
  FROM unnest(identifiers) AS identifier
$$;
