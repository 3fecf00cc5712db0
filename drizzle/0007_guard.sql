-- The guard (docs/decisions/011-guard.md): match keys, the store's blocklist, and what erasure
-- keeps. Linking now compares keys; rows already here are keyed by their values as stored, under
-- the version `legacy`, which `npm run rekey` replaces with the configured rules' keys.
--
-- The value indexes go: every read is by key now. An older deployment still serving during the
-- rollout reads by value without them (slower, still correct); promote the new one promptly.
CREATE TABLE "BlockedIdentifier" (
	"kind" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	"reason" text NOT NULL,
	"createdAt" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "BlockedIdentifier_kind_key_pk" PRIMARY KEY("kind","key")
);
--> statement-breakpoint
CREATE TABLE "ErasedIdentifier" (
	"kind" text NOT NULL,
	"keyHash" text NOT NULL,
	"erasedAt" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ErasedIdentifier_kind_keyHash_pk" PRIMARY KEY("kind","keyHash")
);
--> statement-breakpoint
DROP INDEX "Contact_email_live_idx";--> statement-breakpoint
DROP INDEX "Contact_phoneNumber_live_idx";--> statement-breakpoint
DROP INDEX "ContactEvent_evidenceEmail_idx";--> statement-breakpoint
DROP INDEX "ContactEvent_evidencePhoneNumber_idx";--> statement-breakpoint
ALTER TABLE "Contact" ADD COLUMN "emailKey" text;--> statement-breakpoint
ALTER TABLE "Contact" ADD COLUMN "phoneKey" text;--> statement-breakpoint
ALTER TABLE "Contact" ADD COLUMN "keyVersion" text DEFAULT 'legacy' NOT NULL;--> statement-breakpoint
ALTER TABLE "ContactEvent" ADD COLUMN "evidenceEmailKey" text;--> statement-breakpoint
ALTER TABLE "ContactEvent" ADD COLUMN "evidencePhoneKey" text;--> statement-breakpoint
UPDATE "Contact" SET "emailKey" = "email", "phoneKey" = "phoneNumber";--> statement-breakpoint
UPDATE "ContactEvent" SET "evidenceEmailKey" = "evidenceEmail", "evidencePhoneKey" = "evidencePhoneNumber"
WHERE "evidenceEmail" IS NOT NULL OR "evidencePhoneNumber" IS NOT NULL;--> statement-breakpoint
-- A row inserted without keys (an older service during a rollout, a hand-written insert) is keyed
-- by its values as stored, so every writer's rows can be found by key.
CREATE FUNCTION contact_fill_keys() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."emailKey" IS NULL AND NEW."email" IS NOT NULL AND NEW."keyVersion" = 'legacy' THEN
    NEW."emailKey" := NEW."email";
  END IF;
  IF NEW."phoneKey" IS NULL AND NEW."phoneNumber" IS NOT NULL AND NEW."keyVersion" = 'legacy' THEN
    NEW."phoneKey" := NEW."phoneNumber";
  END IF;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER "Contact_fill_keys" BEFORE INSERT ON "Contact"
FOR EACH ROW WHEN (NEW."keyVersion" = 'legacy') EXECUTE FUNCTION contact_fill_keys();--> statement-breakpoint
-- A new customer's write, after its locks: refuses (SQLSTATE GU422, lib/db/errors.ts) when the
-- blocklist holds every key it has, as a block that committed while the request was planned can.
CREATE FUNCTION contact_assert_linkable(email_key text, phone_key text) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF NOT EXISTS (
    SELECT FROM (VALUES ('email', email_key), ('phoneNumber', phone_key)) AS request(kind, key)
    WHERE request.key IS NOT NULL AND NOT EXISTS (
      SELECT FROM "BlockedIdentifier" AS blocked
      WHERE blocked."kind" = request.kind AND blocked."key" = request.key
    )
  ) THEN
    RAISE EXCEPTION 'Every identifier of the new customer is blocked' USING ERRCODE = 'GU422';
  END IF;
END
$$;--> statement-breakpoint
CREATE INDEX "Contact_emailKey_live_idx" ON "Contact" USING btree ("emailKey") WHERE "Contact"."deletedAt" is null;--> statement-breakpoint
CREATE INDEX "Contact_phoneKey_live_idx" ON "Contact" USING btree ("phoneKey") WHERE "Contact"."deletedAt" is null;--> statement-breakpoint
CREATE INDEX "ContactEvent_evidenceEmailKey_idx" ON "ContactEvent" USING btree ("evidenceEmailKey") WHERE "ContactEvent"."evidenceEmailKey" is not null;--> statement-breakpoint
CREATE INDEX "ContactEvent_evidencePhoneKey_idx" ON "ContactEvent" USING btree ("evidencePhoneKey") WHERE "ContactEvent"."evidencePhoneKey" is not null;