DROP INDEX "Contact_linkedId_idx";--> statement-breakpoint
CREATE INDEX "Contact_linkedId_live_idx" ON "Contact" USING btree ("linkedId") WHERE "Contact"."deletedAt" is null;