CREATE TABLE "timers" (
	"key" text COLLATE "C" PRIMARY KEY NOT NULL,
	"bus" text NOT NULL,
	"origin" text DEFAULT 'api' NOT NULL,
	"event" jsonb NOT NULL,
	"schedule" jsonb NOT NULL,
	"misfire" text DEFAULT 'fire-once' NOT NULL,
	"misfire_grace_ms" integer DEFAULT 60000 NOT NULL,
	"state" text DEFAULT 'scheduled' NOT NULL,
	"next_fire_at" timestamp (3) with time zone,
	"last_due_at" timestamp (3) with time zone,
	"last_fired_at" timestamp with time zone,
	"fire_count" bigint DEFAULT 0 NOT NULL,
	"generation" bigint DEFAULT 1 NOT NULL,
	"traceparent" text,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "timers_due_idx" ON "timers" USING btree ("next_fire_at") WHERE state = 'scheduled';