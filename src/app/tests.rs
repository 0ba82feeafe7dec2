//! The moved use cases, natively, without HTTP: the test World's services,
//! the production SQL on SQLite and the fake provider. Routes are proven
//! separately (`routes/tests`, and end to end against `wrangler dev`).

use super::connectors::{self, UpdateRequest, Upgrade};
use super::install::{self, InstallRequest};
use super::locks;
use crate::domain::connector::{AuthMode, Status};
use crate::domain::ids::TenantId;
use crate::domain::Error;
use crate::store::Fail;
use crate::testing::{World, GOOD_TOKEN};
use pollster::block_on;
use serde_json::{json, Value};

const REDIRECT: &str = "https://api.example.com/v1/oauth/callback";

fn world_with_github() -> (World, TenantId) {
    let w = World::new();
    let app = w.app();
    let raw = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/catalog/github.json"))
        .unwrap();
    block_on(super::catalog::publish(&app, "github", &raw)).unwrap();
    let (t, _) = block_on(super::keys::create_tenant(&app, "Acme".into())).unwrap();
    (w, t.id)
}

fn request(token: &str, name: &str) -> InstallRequest {
    InstallRequest {
        listing: "github".into(),
        name: Some(name.into()),
        auth: Some(json!({"type": "pat", "token": token})),
        config: None,
        crew_id: None,
        return_url: None,
    }
}

fn domain(e: Fail) -> Error {
    match e {
        Fail::Domain(e) => e,
        Fail::Store(e) => panic!("a store failure: {}", e.0),
    }
}

#[test]
fn a_plan_checks_everything_and_sends_nothing() {
    let (w, t) = world_with_github();
    let app = w.app();
    let plan = block_on(install::plan_install(&app, &t, request(GOOD_TOKEN, "gh"))).unwrap();
    assert_eq!(
        plan.locks(),
        locks::Locks {
            take: vec!["name:gh".into()],
            free: vec![],
            keep_on_success: true
        }
    );
    assert!(w.provider.sent.borrow().is_empty(), "planning probed");
    let mut wrong = request(GOOD_TOKEN, "gh");
    wrong.auth = Some(json!({"type": "api_key", "key": GOOD_TOKEN}));
    let bad = block_on(install::plan_install(&app, &t, wrong));
    assert!(
        matches!(domain(bad.err().unwrap()), Error::InvalidParameter { param, .. } if param == "auth.type")
    );
    let mut early = request(GOOD_TOKEN, "gh");
    early.listing = "nope".into();
    let e = block_on(install::plan_install(&app, &t, early))
        .err()
        .unwrap();
    assert!(matches!(
        domain(e),
        Error::NotFound {
            kind: "listing",
            ..
        }
    ));
    assert!(w.provider.sent.borrow().is_empty());
    assert!(w.rows("SELECT id FROM connectors").is_empty());
}

#[test]
fn an_install_is_stored_typed_and_sealed_and_read_back() {
    let (w, t) = world_with_github();
    let app = w.app();
    let plan = block_on(install::plan_install(&app, &t, request(GOOD_TOKEN, "gh"))).unwrap();
    let done = block_on(install::install(&app, &t, "key_x", plan, REDIRECT)).unwrap();
    assert!(done.consent.is_none());
    let stored = block_on(connectors::owned(&w.app(), &t, done.connector.id.as_str())).unwrap();
    assert_eq!(stored.status, Status::Connected);
    assert_eq!(stored.auth_type, AuthMode::Pat);
    assert_eq!(stored.health.healthy, Some(true));
    let row = &w.rows("SELECT secret, status, auth_type, health FROM connectors")[0];
    assert_eq!(row["status"], "connected");
    assert_eq!(row["auth_type"], "pat");
    assert!(
        !row.to_string().contains(GOOD_TOKEN),
        "the secret is sealed"
    );
    // A refused credential stores nothing and names the cause.
    let plan = block_on(install::plan_install(
        &app,
        &t,
        request("ghp_Wrong1234567890", "gh2"),
    ))
    .unwrap();
    let e = domain(
        block_on(install::install(&app, &t, "key_x", plan, REDIRECT))
            .err()
            .unwrap(),
    );
    assert!(
        matches!(&e, Error::AuthRejected(m) if m.contains("rejected the credentials")),
        "{e:?}"
    );
    assert_eq!(w.rows("SELECT id FROM connectors").len(), 1);
}

#[test]
fn an_update_plan_names_its_locks_and_a_config_change_needs_the_credential() {
    let (w, t) = world_with_github();
    let app = w.app();
    let plan = block_on(install::plan_install(&app, &t, request(GOOD_TOKEN, "gh"))).unwrap();
    let c = block_on(install::install(&app, &t, "key_x", plan, REDIRECT))
        .unwrap()
        .connector;
    let rename = UpdateRequest {
        name: Some("gh-2".into()),
        crew_id: None,
        auth: None,
        config: None,
    };
    let plan = block_on(connectors::plan_update(&app, &t, c.id.as_str(), rename)).unwrap();
    assert_eq!(
        plan.locks(),
        locks::Locks {
            take: vec![locks::connector(&c.id), "name:gh-2".into()],
            free: vec!["name:gh".into()],
            keep_on_success: false
        }
    );
    block_on(connectors::update(&w.app(), "key_x", plan, REDIRECT)).unwrap();
    let stored = block_on(connectors::owned(&w.app(), &t, c.id.as_str())).unwrap();
    assert_eq!(stored.name, "gh-2");
    let moved = UpdateRequest {
        name: None,
        crew_id: None,
        auth: None,
        config: Some(Some(
            json!({"base_url": "https://github.example.com/api/v3"}),
        )),
    };
    let e = domain(
        block_on(connectors::plan_update(&app, &t, c.id.as_str(), moved))
            .err()
            .unwrap(),
    );
    assert!(
        matches!(&e, Error::MissingParameter { param, message: Some(m) } if param == "auth" && m.contains("credential again")),
        "{e:?}"
    );
}

#[test]
fn an_upgrade_to_the_same_version_is_current_and_uninstall_frees_the_name() {
    let (w, t) = world_with_github();
    let app = w.app();
    let plan = block_on(install::plan_install(&app, &t, request(GOOD_TOKEN, "gh"))).unwrap();
    let c = block_on(install::install(&app, &t, "key_x", plan, REDIRECT))
        .unwrap()
        .connector;
    let up = block_on(connectors::plan_upgrade(&app, &t, c.id.as_str(), None)).unwrap();
    assert!(matches!(up, Upgrade::Current(ref x) if x.id == c.id));
    let l = connectors::uninstall_locks(&c);
    assert_eq!(
        l.take,
        vec![locks::connector(&c.id), locks::BINDINGS.to_string()]
    );
    assert_eq!(l.free, vec!["name:gh".to_string()]);
    block_on(connectors::uninstall(&w.app(), "key_x", &c)).unwrap();
    let gone = block_on(connectors::owned(&w.app(), &t, c.id.as_str()));
    assert!(matches!(
        domain(gone.err().unwrap()),
        Error::NotFound { .. }
    ));
    let events: Vec<Value> = w.rows("SELECT type FROM events ORDER BY rowid");
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert!(
        kinds.ends_with(&["connector.installed", "connector.uninstalled"]),
        "{kinds:?}"
    );
}
