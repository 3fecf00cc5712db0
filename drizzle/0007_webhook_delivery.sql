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
