-- IF (NOT) EXISTS, so an operator can build the index first with CREATE INDEX CONCURRENTLY on a
-- large table (README, Known limits) and this migration then only drops the old one. A concurrent
-- build that failed or was cancelled leaves an invalid index of that name, which no query uses:
-- it is dropped here and built again.
DO $$
BEGIN
  IF EXISTS (
    SELECT FROM pg_index JOIN pg_class ON pg_class.oid = pg_index.indexrelid
    WHERE pg_class.relname = 'Contact_linkedId_live_idx' AND NOT pg_index.indisvalid
  ) THEN
    DROP INDEX "Contact_linkedId_live_idx";
  END IF;
END
$$;--> statement-breakpoint
DROP INDEX IF EXISTS "Contact_linkedId_idx";--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "Contact_linkedId_live_idx" ON "Contact" USING btree ("linkedId") WHERE "Contact"."deletedAt" is null;
