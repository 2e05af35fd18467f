ALTER TABLE "timers" ADD COLUMN "last_outcome" jsonb;--> statement-breakpoint
ALTER TABLE "timers" ADD COLUMN "rearm" jsonb;