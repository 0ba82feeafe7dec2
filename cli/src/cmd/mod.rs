//! One function per command; each prints a table (or, with `--json`, the
//! API's answer verbatim) and ends with the exit code of error.rs.

mod calls;
mod catalog;
mod connectors;
mod mcp;

use crate::api::{Api, Req};
use crate::args::{Approvals, Catalog, Cli, Command, Connectors, Consumers, Login, Mcp, Tools};
use crate::config::{self, Stored};
use crate::error::{Failure, Result};
use crate::prompt::{Ask, Stdin};
use crate::ui;
use serde_json::json;

/// How output is wanted.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub json: bool,
}

impl Out {
    /// A list page: the API's answer verbatim (`--json`), or `table` of its
    /// items and, on stderr, how many and how to get the next page.
    pub fn list(
        self,
        r: &crate::api::Reply,
        table: fn(&[serde_json::Value]) -> String,
        noun: &str,
    ) {
        if self.json {
            ui::print_raw(&r.body);
            return;
        }
        let v = r.json();
        let items = v["data"].as_array().cloned().unwrap_or_default();
        print!("{}", table(&items));
        eprintln!("{}", ui::page_footer(&v, items.len(), noun));
    }
}

pub fn run(cli: Cli) -> Result<()> {
    let out = Out { json: cli.json };
    let r = dispatch(cli.command, out);
    // Scripts get the API's error envelope on stdout too.
    if let (true, Err(Failure::Api(e))) = (out.json, &r) {
        ui::print_raw(&e.body);
    }
    r
}

fn api() -> Result<Api> {
    Ok(Api::from_session(&config::session()?))
}

fn dispatch(c: Command, out: Out) -> Result<()> {
    match c {
        Command::Login(l) => login(l, out),
        Command::Logout => logout(out),
        Command::Catalog(Catalog::Search(s)) => catalog::search(&api()?, s, out),
        Command::Catalog(Catalog::Show { listing }) => catalog::show(&api()?, &listing, out),
        Command::Connectors(c) => {
            let api = api()?;
            match c {
                Connectors::Install(i) => connectors::install(&api, i, &mut Stdin::new(), out),
                Connectors::List(l) => connectors::list(&api, l, out),
                Connectors::Show { id } => connectors::show(&api, &id, out),
                Connectors::Test { id, tools } => connectors::test(&api, &id, &tools, out),
                Connectors::Health { id } => connectors::health(&api, &id, out),
                Connectors::Rm { id, yes } => {
                    connectors::rm(&api, &id, yes, &mut Stdin::new(), out)
                }
            }
        }
        Command::Tools(Tools::Call(c)) => calls::call(&api()?, c, out),
        Command::Consumers(Consumers::Tools { consumer }) => {
            calls::consumer_tools(&api()?, &consumer, out)
        }
        Command::Mcp(Mcp::Config(m)) => mcp::config(m, out),
        Command::Approvals(a) => {
            let api = api()?;
            match a {
                Approvals::List {
                    status,
                    consumer,
                    page,
                } => calls::approvals(&api, status, consumer, page, out),
                Approvals::Approve { id } => calls::approve(&api, &id, out),
                Approvals::Deny { id, reason } => calls::deny(&api, &id, reason, out),
            }
        }
    }
}

fn login(l: Login, out: Out) -> Result<()> {
    let path = config::path()?;
    let stored = config::load(&path).unwrap_or_default();
    let mut ask = Stdin::new();
    let base = match l.base_url {
        Some(b) => b,
        None => {
            let default = config::base_from(&stored, &config::env);
            let q = format!("API base URL [{default}]: ");
            match ask.ask(&q, false) {
                Ok(Some(a)) if !a.trim().is_empty() => a,
                Ok(_) => default,
                Err(e) => return Err(Failure::Local(format!("cannot read an answer: {e}"))),
            }
        }
    };
    let base = config::trim_base(&base);
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        return Err(Failure::Usage(format!(
            "the base URL must start with https:// or http://, got '{base}'"
        )));
    }
    let key = match l.key {
        Some(k) => k,
        None => match ask.ask("API key (mk_…; not echoed): ", true) {
            Ok(Some(k)) => k,
            Ok(None) => {
                return Err(Failure::Usage(
                    "no API key given (input ended): pipe it on stdin or pass --key".into(),
                ))
            }
            Err(e) => return Err(Failure::Local(format!("cannot read an answer: {e}"))),
        },
    };
    let key = key.trim().to_string();
    if key.is_empty() {
        return Err(Failure::Usage("the API key is empty".into()));
    }
    // A real request: the key must be accepted before it is kept.
    let api = Api::new(&base, &key);
    let check = api.send(
        Req::get("/v1/catalog")
            .query("limit", Some(1))
            .doing("checking the key"),
    );
    let note = match check {
        Ok(_) => None,
        Err(Failure::Api(e)) if e.status == 403 => Some(
            "this key may not read the catalog (an agent key?): only `connector tools call` will work with it",
        ),
        Err(e) => return Err(e),
    };
    config::save(
        &path,
        &Stored {
            base_url: Some(base.clone()),
            api_key: Some(key.clone()),
        },
    )?;
    if out.json {
        let v =
            json!({"object": "login", "base_url": base, "key": config::mask(&key), "config": path});
        ui::print_raw(v.to_string().as_bytes());
    } else {
        println!(
            "Logged in to {base} with {} (saved to {}, mode 0600).",
            config::mask(&key),
            path.display()
        );
    }
    if let Some(n) = note {
        eprintln!("note: {n}");
    }
    if config::env("CONNECTOR_API_KEY").is_some_and(|k| !k.trim().is_empty()) {
        eprintln!("note: CONNECTOR_API_KEY is set and overrides the stored key");
    }
    Ok(())
}

fn logout(out: Out) -> Result<()> {
    let path = config::path()?;
    let removed = config::remove(&path)?;
    if out.json {
        let v = json!({"object": "logout", "removed": removed, "config": path});
        ui::print_raw(v.to_string().as_bytes());
    } else if removed {
        println!("Logged out: removed {}.", path.display());
    } else {
        println!("Not logged in ({} does not exist).", path.display());
    }
    if config::env("CONNECTOR_API_KEY").is_some_and(|k| !k.trim().is_empty()) {
        eprintln!("note: CONNECTOR_API_KEY is still set in this environment");
    }
    Ok(())
}
