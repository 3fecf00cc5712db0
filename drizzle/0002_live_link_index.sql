-- IF (NOT) EXISTS, so an operator can build the index first with CREATE INDEX CONCURRENTLY on a
-- large table (README, Known limits) and this migration then only drops the old one.
DROP INDEX IF EXISTS "Contact_linkedId_idx";--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "Contact_linkedId_live_idx" ON "Contact" USING btree ("linkedId") WHERE "Contact"."deletedAt" is null;
