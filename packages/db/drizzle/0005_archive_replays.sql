ALTER TABLE "replay_jobs" ADD COLUMN "kind" text DEFAULT 'dead-letters' NOT NULL;--> statement-breakpoint
ALTER TABLE "replay_jobs" ADD COLUMN "archive" jsonb;