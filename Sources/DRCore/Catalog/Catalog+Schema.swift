internal import GRDB

extension Catalog {
    /// The schema, one migration per catalog version. Never edit a shipped migration:
    /// add a new one. Documented in docs/ARCHITECTURE.md.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE source (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    config_digest TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY,
                    trigger TEXT NOT NULL CHECK (trigger IN ('manual', 'cron', 'drill')),
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'partial')),
                    error TEXT,
                    host TEXT NOT NULL,
                    pid INTEGER NOT NULL,
                    drctl_version TEXT NOT NULL
                );
                CREATE TABLE object (
                    id INTEGER PRIMARY KEY,
                    type TEXT NOT NULL CHECK (type IN ('data', 'manifest')),
                    sha256 TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    plain_size INTEGER NOT NULL,
                    encryption TEXT NOT NULL CHECK (encryption IN ('none', 'age')),
                    compression TEXT NOT NULL DEFAULT 'none',
                    created_at TEXT NOT NULL,
                    UNIQUE (type, sha256)
                );
                CREATE TABLE snapshot (
                    id TEXT PRIMARY KEY,
                    source_id INTEGER NOT NULL REFERENCES source(id),
                    run_id INTEGER REFERENCES run(id) ON DELETE SET NULL,
                    kind TEXT NOT NULL,
                    level TEXT NOT NULL CHECK (level IN ('full', 'incremental')),
                    parent_id TEXT REFERENCES snapshot(id),
                    created_at TEXT NOT NULL,
                    data_time TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    plain_bytes INTEGER NOT NULL,
                    files INTEGER,
                    status TEXT NOT NULL CHECK (status IN ('complete')),
                    verified_at TEXT,
                    verify_result TEXT,
                    manifest_object_id INTEGER NOT NULL REFERENCES object(id),
                    meta TEXT NOT NULL DEFAULT '{}',
                    CHECK ((level = 'full') = (parent_id IS NULL))
                );
                CREATE INDEX snapshot_by_source_time ON snapshot(source_id, data_time);
                CREATE INDEX snapshot_by_parent ON snapshot(parent_id);
                CREATE TABLE snapshot_object (
                    snapshot_id TEXT NOT NULL REFERENCES snapshot(id) ON DELETE CASCADE,
                    object_id INTEGER NOT NULL REFERENCES object(id),
                    role TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    PRIMARY KEY (snapshot_id, object_id)
                );
                CREATE INDEX snapshot_object_by_object ON snapshot_object(object_id);
                CREATE TABLE git_ref (
                    snapshot_id TEXT NOT NULL REFERENCES snapshot(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    oid TEXT NOT NULL,
                    symref TEXT,
                    PRIMARY KEY (snapshot_id, name)
                );
                CREATE TABLE source_attempt (
                    id INTEGER PRIMARY KEY,
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    source_id INTEGER NOT NULL REFERENCES source(id),
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
                    error TEXT,
                    snapshot_id TEXT REFERENCES snapshot(id) ON DELETE SET NULL
                );
                CREATE INDEX source_attempt_by_run ON source_attempt(run_id);
                """)
        }
        migrator.registerMigration("v2-file-index") { db in
            // Paths are byte strings: components joined by 0x00, so that BLOB order equals the
            // order of a depth-first walk with siblings sorted by name bytes (docs/ARCHITECTURE.md).
            try db.execute(sql: """
                CREATE TABLE path (
                    id INTEGER PRIMARY KEY,
                    source_id INTEGER NOT NULL REFERENCES source(id),
                    key BLOB NOT NULL,
                    UNIQUE (source_id, key)
                );
                CREATE TABLE file (
                    snapshot_id TEXT NOT NULL REFERENCES snapshot(id) ON DELETE CASCADE,
                    path_id INTEGER NOT NULL REFERENCES path(id),
                    type TEXT NOT NULL CHECK (type IN ('f', 'd', 'l', 'h', 'x')),
                    size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL,
                    ctime_ns INTEGER NOT NULL,
                    mode INTEGER NOT NULL,
                    uid INTEGER NOT NULL,
                    gid INTEGER NOT NULL,
                    link_target BLOB,
                    hash BLOB,
                    object_id INTEGER REFERENCES object(id),
                    entry INTEGER,
                    PRIMARY KEY (snapshot_id, path_id)
                ) WITHOUT ROWID;
                CREATE INDEX file_by_path ON file(path_id);
                CREATE TABLE file_state (
                    source_id INTEGER NOT NULL REFERENCES source(id),
                    path_id INTEGER NOT NULL REFERENCES path(id),
                    type TEXT NOT NULL CHECK (type IN ('f', 'd', 'l', 'h')),
                    size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL,
                    ctime_ns INTEGER NOT NULL,
                    mode INTEGER NOT NULL,
                    uid INTEGER NOT NULL,
                    gid INTEGER NOT NULL,
                    link_target BLOB,
                    hash BLOB,
                    object_id INTEGER REFERENCES object(id),
                    entry INTEGER,
                    snapshot_id TEXT NOT NULL,
                    PRIMARY KEY (source_id, path_id)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3-kube-objects") { db in
            // Kubernetes objects of `secrets` / `argocd-state` snapshots: names and keyed
            // digests only, never values (docs/ARCHITECTURE.md).
            try db.execute(sql: """
                CREATE TABLE kube_object (
                    snapshot_id TEXT NOT NULL REFERENCES snapshot(id) ON DELETE CASCADE,
                    api_version TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    namespace TEXT NOT NULL,
                    name TEXT NOT NULL,
                    type TEXT,
                    keys TEXT NOT NULL,
                    digest TEXT NOT NULL,
                    PRIMARY KEY (snapshot_id, api_version, kind, namespace, name)
                ) WITHOUT ROWID;
                CREATE INDEX kube_object_by_name ON kube_object(namespace, name);
                """)
        }
        migrator.registerMigration("v4-journal") { db in
            // The runbook journal: one `execution` per `drctl restore`, one `execution_step`
            // row per step attempt (docs/ARCHITECTURE.md). Output tails are redacted.
            try db.execute(sql: """
                CREATE TABLE execution (
                    id TEXT PRIMARY KEY,
                    runbook TEXT NOT NULL,
                    origin TEXT NOT NULL,
                    content_hash TEXT NOT NULL,
                    mode TEXT NOT NULL CHECK (mode IN ('incident', 'drill', 'plan')),
                    at TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
                    plan TEXT NOT NULL,
                    rto_seconds REAL,
                    error TEXT
                );
                CREATE INDEX execution_by_started ON execution(started_at);
                CREATE TABLE execution_step (
                    id INTEGER PRIMARY KEY,
                    execution_id TEXT NOT NULL REFERENCES execution(id) ON DELETE CASCADE,
                    step_id TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('ok', 'changed', 'skipped', 'failed')),
                    started_at TEXT NOT NULL,
                    finished_at TEXT NOT NULL,
                    output_tail TEXT NOT NULL DEFAULT '',
                    error TEXT,
                    UNIQUE (execution_id, step_id, attempt)
                );
                """)
        }
        migrator.registerMigration("v5-drills") { db in
            // DR drills: the result of a drill execution, and which snapshots passed one.
            try db.execute(sql: """
                ALTER TABLE execution ADD COLUMN drill_result TEXT CHECK (drill_result IN ('SUCCESS', 'WARNINGS', 'FAILED'));
                CREATE TABLE snapshot_test (
                    snapshot_id TEXT NOT NULL REFERENCES snapshot(id) ON DELETE CASCADE,
                    execution_id TEXT NOT NULL REFERENCES execution(id) ON DELETE CASCADE,
                    tested_at TEXT NOT NULL,
                    PRIMARY KEY (snapshot_id, execution_id)
                );
                """)
        }
        migrator.registerMigration("v6-drill-reports") { db in
            // The full report of each drill (JSON of `DrillReport`), for `drctl drill report`
            // and for scheduling drills; `runbook`, `started_at` and `result` are copied out
            // for queries.
            try db.execute(sql: """
                CREATE TABLE drill_report (
                    execution_id TEXT PRIMARY KEY REFERENCES execution(id) ON DELETE CASCADE,
                    runbook TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    result TEXT NOT NULL CHECK (result IN ('SUCCESS', 'WARNINGS', 'FAILED')),
                    report TEXT NOT NULL
                );
                CREATE INDEX drill_report_by_runbook ON drill_report(runbook, started_at);
                """)
        }
        return migrator
    }
}
