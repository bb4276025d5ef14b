-- v3 (frozen).
-- The date each opportunity entered each stage, for funnel conversion and cycle times.
CREATE TABLE opportunity_stage (
            id INTEGER PRIMARY KEY,
            opportunity INTEGER NOT NULL REFERENCES "opportunity"(id) ON DELETE CASCADE,
            stage TEXT NOT NULL,
            entered_at INTEGER NOT NULL
        ) STRICT;
CREATE INDEX opportunity_stage_opp ON opportunity_stage(opportunity, entered_at);
