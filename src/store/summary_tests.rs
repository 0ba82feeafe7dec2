//! The capability summary (migration 0014) against the tables it summarises:
//! after every write of a long pseudo-random sequence (installs, upgrades
//! that change what an instance fulfils, status changes, uninstalls, bindings
//! made, moved and removed, in two tenants), `connector_capabilities` and
//! `capability_counts` hold exactly what a full recomputation from
//! `connectors` and `bindings` gives.

use super::sqlite::SqliteDb;
use serde_json::Value;

const CAPS: [&str; 5] = [
    "issue.read",
    "issue.write",
    "repo.read",
    "user.read",
    "order.hold",
];
const STATUSES: [&str; 3] = ["connected", "pending_auth", "error"];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }

    fn caps(&mut self) -> String {
        // Sometimes none, sometimes a repeat (the summary counts an instance once).
        let n = self.below(4);
        let picked: Vec<String> = (0..n)
            .map(|_| format!("\"{}\"", CAPS[self.below(CAPS.len())]))
            .collect();
        format!("[{}]", picked.join(","))
    }
}

fn exec(db: &SqliteDb, sql: &str) {
    db.rows(sql);
}

fn summary(db: &SqliteDb) -> (Vec<Value>, Vec<Value>) {
    (
        db.rows(
            "SELECT tenant_id, capability, connector_id, connected, created_at FROM connector_capabilities
             ORDER BY tenant_id, capability, connector_id",
        ),
        db.rows(
            "SELECT tenant_id, capability, connectors, bindings FROM capability_counts
             ORDER BY tenant_id, capability",
        ),
    )
}

fn recomputed(db: &SqliteDb) -> (Vec<Value>, Vec<Value>) {
    (
        db.rows(
            "SELECT DISTINCT c.tenant_id, j.value AS capability, c.id AS connector_id,
                    c.status = 'connected' AS connected, c.created_at
             FROM connectors c, json_each(c.capabilities) j
             ORDER BY c.tenant_id, j.value, c.id",
        ),
        db.rows(
            "SELECT tenant_id, capability, sum(c) AS connectors, sum(b) AS bindings FROM (
               SELECT DISTINCT c.tenant_id, j.value AS capability, c.id, 1 AS c, 0 AS b
                 FROM connectors c, json_each(c.capabilities) j
               UNION ALL
               SELECT tenant_id, capability, id, 0, 1 FROM bindings
             ) GROUP BY tenant_id, capability ORDER BY tenant_id, capability",
        ),
    )
}

#[test]
fn the_capability_summary_is_what_the_tables_hold_after_every_write() {
    let db = SqliteDb::migrated();
    for t in ["ten_a", "ten_b"] {
        exec(
            &db,
            &format!("INSERT INTO tenants (id, name, created_at) VALUES ('{t}', '{t}', 't')"),
        );
    }
    let mut rng = Rng(16);
    let (mut connectors, mut bindings) = (0, 0);
    let mut kinds = [0usize; 7];
    for step in 0..600 {
        let tenant = ["ten_a", "ten_b"][rng.below(2)];
        let kind = rng.below(7);
        let c = format!("cn_{}", rng.below(connectors.max(1)));
        let b = format!("bnd_{}", rng.below(bindings.max(1)));
        let sql = match kind {
            0 => {
                connectors += 1;
                format!(
                    "INSERT INTO connectors (id, tenant_id, listing_id, listing_version, name, kind, transport, capabilities, tools, config, auth_type, status, health, created_at, updated_at)
                     VALUES ('cn_{}', '{tenant}', 'github', '1', 'n{}', 'api', 'http', '{}', '[]', '{{}}', 'pat', '{}', '{{}}', '2026-01-{:02}', 'u')",
                    connectors - 1,
                    connectors - 1,
                    rng.caps(),
                    STATUSES[rng.below(3)],
                    1 + rng.below(28)
                )
            }
            // An upgrade (what it fulfils) and a status change, alone or together.
            1 => format!("UPDATE connectors SET capabilities = '{}' WHERE id = '{c}'", rng.caps()),
            2 => format!(
                "UPDATE connectors SET status = '{}' WHERE id = '{c}'",
                STATUSES[rng.below(3)]
            ),
            3 => format!(
                "UPDATE connectors SET status = '{}', capabilities = '{}', name = name WHERE id = '{c}'",
                STATUSES[rng.below(3)],
                rng.caps()
            ),
            4 => format!("DELETE FROM connectors WHERE id = '{c}'"),
            5 => {
                bindings += 1;
                format!(
                    "INSERT INTO bindings (id, tenant_id, consumer, capability, connector_id, alias, created_at)
                     VALUES ('bnd_{}', '{tenant}', 'bot', '{}', NULL, 'a{}', '2026-02-01')",
                    bindings - 1,
                    CAPS[rng.below(CAPS.len())],
                    bindings - 1
                )
            }
            _ => {
                if rng.below(2) == 0 {
                    format!("DELETE FROM bindings WHERE id = '{b}'")
                } else {
                    format!(
                        "UPDATE bindings SET capability = '{}' WHERE id = '{b}'",
                        CAPS[rng.below(CAPS.len())]
                    )
                }
            }
        };
        kinds[kind] += 1;
        exec(&db, &sql);
        assert_eq!(summary(&db), recomputed(&db), "after step {step}: {sql}");
    }
    // The sequence did reach every kind of write, and left something to compare.
    assert!(kinds.iter().all(|&n| n > 40), "{kinds:?}");
    let (rows, counts) = summary(&db);
    assert!(rows.len() > 10 && counts.len() > 5, "{rows:?} {counts:?}");
    // No row outlives both its counts.
    assert!(db
        .rows("SELECT 1 FROM capability_counts WHERE connectors <= 0 AND bindings <= 0")
        .is_empty());
}
