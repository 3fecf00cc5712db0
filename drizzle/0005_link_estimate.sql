-- The cluster read (lib/identify/store.ts) looks up each member's children by "linkedId", once per
-- member. The planner sizes that lookup from the column's statistics, not knowing the value: the
-- live rows divided by the number of distinct values. When one customer of 20,000 rows dominates
-- a table, ANALYZE finds a single distinct value, the lookup is expected to return nearly every
-- row, and a sequential scan of the table wins, once per member: 24 s for that customer's read
-- instead of 0.05 s, answered 503 busy at the statement timeout, every time.
--
-- A fixed estimate instead: distinct values are half the rows (n_distinct = -0.5), that is, a
-- lookup returns at most two rows, whatever the table's size or shape, so the index always wins.
-- It is about right for a store of small customers, and a large customer's few large lookups
-- cost what they return. Only this column's estimate changes; ANALYZE still measures the rest.
ALTER TABLE "Contact" ALTER COLUMN "linkedId" SET (n_distinct = -0.5);--> statement-breakpoint

-- The setting takes effect at the next ANALYZE. A table analysed before, whose statistics may be
-- the ones above, is analysed now (this column only: a sample of at most 30,000 rows). One never
-- analysed is left so: its plans use defaults that already favour the index, until autovacuum
-- analyses it with the setting.
DO $$
BEGIN
  IF EXISTS (
    SELECT FROM pg_stats
    WHERE schemaname = current_schema() AND tablename = 'Contact' AND attname = 'linkedId'
  ) THEN
    ANALYZE "Contact" ("linkedId");
  END IF;
END
$$;
