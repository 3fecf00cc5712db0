CREATE TABLE "ContactEvent" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ContactEvent_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"txid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"kind" text NOT NULL,
	"primaryId" integer NOT NULL,
	"contactIds" integer[] NOT NULL,
	"absorbedIds" integer[] NOT NULL,
	"joinedBy" text,
	"evidenceEmail" text,
	"evidencePhoneNumber" text,
	"requestId" text,
	"createdAt" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "WebhookDelivery" (
	"name" text PRIMARY KEY NOT NULL,
	"cursor" text NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"nextAttemptAt" timestamp (3) with time zone,
	"leaseOwner" text,
	"leaseUntil" timestamp (3) with time zone,
	"lastStatus" integer,
	"lastError" text,
	"updatedAt" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "ContactEvent_feed_idx" ON "ContactEvent" USING btree ("txid","id");--> statement-breakpoint
CREATE INDEX "ContactEvent_evidenceEmail_idx" ON "ContactEvent" USING btree ("evidenceEmail") WHERE "ContactEvent"."evidenceEmail" is not null;--> statement-breakpoint
CREATE INDEX "ContactEvent_evidencePhoneNumber_idx" ON "ContactEvent" USING btree ("evidencePhoneNumber") WHERE "ContactEvent"."evidencePhoneNumber" is not null;