CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"principal" text NOT NULL,
	"action" text NOT NULL,
	"details" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dead_letters" (
	"id" text PRIMARY KEY NOT NULL,
	"bus" text NOT NULL,
	"rule" text NOT NULL,
	"target" text NOT NULL,
	"type" text NOT NULL,
	"source" text NOT NULL,
	"event_id" text NOT NULL,
	"subject" text,
	"partition_key" text,
	"stage" text NOT NULL,
	"error_class" text NOT NULL,
	"error_message" text NOT NULL,
	"http_status" integer,
	"attempts" integer NOT NULL,
	"first_attempt_at" timestamp (3) with time zone NOT NULL,
	"last_attempt_at" timestamp (3) with time zone NOT NULL,
	"dead_lettered_at" timestamp (3) with time zone NOT NULL,
	"accepted_at" timestamp (3) with time zone NOT NULL,
	"event_seq" bigint,
	"trace_id" text,
	"dlq_stream_seq" bigint NOT NULL,
	"state" text DEFAULT 'dead' NOT NULL,
	"replay_job_id" text,
	"replayed_at" timestamp (3) with time zone,
	"replay_count" integer DEFAULT 0 NOT NULL,
	"last_replay_error" text,
	"replay_of" text,
	"replay_of_job" text,
	"purged_at" timestamp (3) with time zone,
	"indexed_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "replay_jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"selection" jsonb NOT NULL,
	"target" text,
	"rate_per_second" integer,
	"dry_run" boolean DEFAULT false NOT NULL,
	"force" boolean DEFAULT false NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"total" integer DEFAULT 0 NOT NULL,
	"done" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"failures" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"error" text,
	"created_by" text NOT NULL,
	"claimed_by" text,
	"lease_until" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "dead_letters_listing_idx" ON "dead_letters" USING btree ("dead_lettered_at","id");--> statement-breakpoint
CREATE INDEX "dead_letters_target_idx" ON "dead_letters" USING btree ("target","dead_lettered_at");--> statement-breakpoint
CREATE INDEX "dead_letters_rule_idx" ON "dead_letters" USING btree ("rule","dead_lettered_at");--> statement-breakpoint
CREATE INDEX "dead_letters_type_idx" ON "dead_letters" USING btree ("type","dead_lettered_at");--> statement-breakpoint
CREATE INDEX "dead_letters_source_idx" ON "dead_letters" USING btree ("source","dead_lettered_at");--> statement-breakpoint
CREATE INDEX "dead_letters_state_idx" ON "dead_letters" USING btree ("state","dead_lettered_at");--> statement-breakpoint
CREATE INDEX "dead_letters_replaying_idx" ON "dead_letters" USING btree ("replay_job_id","accepted_at","event_seq","first_attempt_at","dlq_stream_seq") WHERE state = 'replaying';--> statement-breakpoint
CREATE INDEX "dead_letters_replay_of_idx" ON "dead_letters" USING btree ("replay_of") WHERE replay_of is not null;--> statement-breakpoint
CREATE INDEX "replay_jobs_open_idx" ON "replay_jobs" USING btree ("created_at") WHERE state in ('pending', 'running');