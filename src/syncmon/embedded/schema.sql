-- The seed's "Database Setup" DDL, verbatim (Epic 12 deployment guide, section 3).
-- Only the demo, `syncmon test`, the tests and the benchmarks run this, in their own
-- embedded database.
CREATE TABLE sync_health_metrics (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL,
    sync_session_id UUID NOT NULL,
    metric_type VARCHAR(50) NOT NULL,
    metric_value JSONB NOT NULL,
    timestamp TIMESTAMP DEFAULT NOW(),
    created_at TIMESTAMP DEFAULT NOW()
);

CREATE TABLE conflict_resolution_history (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL,
    conflict_id UUID NOT NULL,
    resolution_type VARCHAR(50) NOT NULL,
    resolution_data JSONB NOT NULL,
    auto_resolved BOOLEAN DEFAULT FALSE,
    timestamp TIMESTAMP DEFAULT NOW()
);

CREATE TABLE sync_performance_metrics (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL,
    operation_type VARCHAR(50) NOT NULL,
    duration_ms INTEGER NOT NULL,
    success BOOLEAN NOT NULL,
    error_message TEXT,
    timestamp TIMESTAMP DEFAULT NOW()
);

CREATE INDEX idx_sync_health_user_id ON sync_health_metrics(user_id);
CREATE INDEX idx_sync_health_timestamp ON sync_health_metrics(timestamp);
CREATE INDEX idx_conflict_resolution_user_id ON conflict_resolution_history(user_id);
CREATE INDEX idx_sync_performance_user_id ON sync_performance_metrics(user_id);
