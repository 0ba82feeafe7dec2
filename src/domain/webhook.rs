//! Webhooks (API §16), pure: what an endpoint may subscribe to and where it
//! may point, the signing secret and the Standard Webhooks signature, how an
//! attempt's answer is read, and the retry schedule.

use super::ids::Random;
use super::Error;
use crate::probe::guard::{self, AllowList};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;

/// The secret's prefix (Standard Webhooks); base64 of the key follows.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a signing key (Standard Webhooks asks for 24 to 64).
const SECRET_BYTES: usize = 24;
/// Endpoints per tenant: every event is fanned out to each of them.
pub const MAX_ENDPOINTS: usize = 16;
/// The event `POST /v1/webhook-endpoints/{id}/test` sends: to that endpoint
/// only, never fanned out.
pub const TEST_EVENT: &str = "webhook.test";
/// Subscribes to every event type.
pub const ALL: &str = "*";
pub const MAX_URL_CHARS: usize = 2048;

/// Every event type an endpoint may subscribe to: the audit trail's (API §9,
/// the OpenAPI `EventType`), those of approvals and failed tool calls (API
/// §15, §13) and the webhooks' own.
pub const EVENT_TYPES: &[&str] = &[
    "connector.installed",
    "connector.verified",
    "connector.authorized",
    "connector.updated",
    "connector.uninstalled",
    "connector.upgraded",
    "connector.health_changed",
    "connector.tested",
    "connector.tools_accepted",
    "connect_session.created",
    "connect_session.completed",
    "binding.created",
    "binding.updated",
    "binding.deleted",
    "api_key.created",
    "api_key.revoked",
    "submission.created",
    "submission.approved",
    "submission.rejected",
    "approval.requested",
    "approval.approved",
    "approval.denied",
    "approval.expired",
    "tool_call.failed",
    "settings.updated",
    "webhook_endpoint.created",
    "webhook_endpoint.deleted",
    "webhook_endpoint.disabled",
    TEST_EVENT,
];

/// `events` of a new endpoint: a non-empty list of known types, or `["*"]`.
/// Duplicates are dropped; the order given is kept.
pub fn parse_events(v: Option<&Value>) -> Result<Vec<String>, Error> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Err(Error::missing("events").reworded(
            "Missing required parameter: events (the event types to deliver, or [\"*\"] for all).",
        ));
    };
    let bad = |m: String| Error::invalid("events", m);
    let items = v.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
        bad("Invalid events: expected a non-empty array of event types, or [\"*\"] for all.".into())
    })?;
    let mut out: Vec<String> = vec![];
    for item in items {
        let t = item.as_str().ok_or_else(|| {
            bad("Invalid events: every entry is an event type (a string).".into())
        })?;
        if t != ALL && !EVENT_TYPES.contains(&t) {
            let shown: String = t.chars().take(64).collect();
            return Err(bad(format!(
                "Invalid events: unknown event type '{shown}'; expected \"*\" or one of {}.",
                EVENT_TYPES.join(", ")
            )));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    if out.len() > 1 && out.iter().any(|t| t == ALL) {
        return Err(bad(
            "Invalid events: \"*\" already means every type; send it alone.".into(),
        ));
    }
    Ok(out)
}

/// Whether an endpoint subscribed to `events` gets an event of `kind` by
/// fan-out (test events go to the endpoint tested only).
pub fn subscribed(events: &[String], kind: &str) -> bool {
    kind != TEST_EVENT && events.iter().any(|e| e == ALL || e == kind)
}

/// An endpoint's URL: `https` to a public host, plain `http` only to a
/// `PROBE_ALLOW_HOSTS` pair (the guard of every outbound call, API §10).
pub fn check_url(url: &str, allow: &AllowList) -> Result<String, Error> {
    if url.chars().count() > MAX_URL_CHARS {
        return Err(Error::invalid(
            "url",
            format!("Invalid url: at most {MAX_URL_CHARS} characters."),
        ));
    }
    let parsed = url::Url::parse(url).map_err(|_| {
        Error::invalid(
            "url",
            "Invalid url: expected an absolute https URL, e.g. https://hooks.example.com/connectors.",
        )
    })?;
    if parsed.fragment().is_some() {
        return Err(Error::invalid(
            "url",
            "Invalid url: a fragment (#…) is never sent; leave it out.",
        ));
    }
    guard::check(url, allow).map_err(|r| Error::TargetNotAllowed {
        param: "url".into(),
        message: r.0,
    })?;
    Ok(parsed.to_string())
}

/// The host an endpoint's URL names (events carry it, not the URL: a
/// receiver's URL may hold a token in its path or query).
pub fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}

/// A fresh signing secret: `whsec_` + base64 of 24 random bytes.
pub fn new_secret(rng: &dyn Random) -> String {
    let mut key = [0u8; SECRET_BYTES];
    rng.fill(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The HMAC key a secret stands for (the base64 after `whsec_`).
pub fn signing_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .ok()
        .filter(|k| !k.is_empty())
}

/// `webhook-signature`: `v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let signed = format!("{id}.{timestamp}.{body}");
    format!(
        "v1,{}",
        STANDARD.encode(super::vault::hmac(key, signed.as_bytes()))
    )
}

/// What one attempt's answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A 2xx: delivered.
    Delivered,
    /// `410 Gone`: the receiver asks for no more; the endpoint is disabled.
    Gone,
    /// Anything else, or no answer: try again later.
    Retry,
}

pub fn verdict(status: Option<u16>) -> Verdict {
    match status {
        Some(200..=299) => Verdict::Delivered,
        Some(410) => Verdict::Gone,
        _ => Verdict::Retry,
    }
}

/// The pause after the n-th failed attempt (the last repeats: hourly).
pub const BACKOFF_MS: [i64; 6] = [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000];
/// Retries go on until an attempt fails this long after the first one.
pub const HORIZON_MS: i64 = 24 * 3_600_000;

/// When to try again after `failed` attempts (the latest now), the first at
/// `first_ms`; `None` once an attempt failed 24 h or more after the first.
/// `scale` (`WEBHOOK_RETRY_SCALE`, tests only) shrinks the whole schedule,
/// horizon included; `jitter` in [0, 1) moves each pause by up to ±10 %.
pub fn next_attempt(
    failed: u32,
    first_ms: i64,
    now_ms: i64,
    scale: f64,
    jitter: f64,
) -> Option<i64> {
    let scale = if scale.is_finite() && scale > 0.0 {
        scale
    } else {
        1.0
    };
    if (now_ms - first_ms) as f64 >= HORIZON_MS as f64 * scale {
        return None;
    }
    let step = (failed.max(1) as usize - 1).min(BACKOFF_MS.len() - 1);
    let pause = BACKOFF_MS[step] as f64 * scale * (0.9 + 0.2 * jitter.clamp(0.0, 1.0));
    Some(now_ms + (pause as i64).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::testing::SeqRandom;
    use serde_json::json;
    use std::cell::Cell;

    #[test]
    fn the_standard_webhooks_test_vector() {
        // The specification's example (standard-webhooks/spec, "Signature scheme").
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        assert_eq!(signing_key("whsec_!!"), None);
    }

    #[test]
    fn secrets_are_whsec_and_24_random_bytes() {
        let rng = SeqRandom(Cell::new(3));
        let (a, b) = (new_secret(&rng), new_secret(&rng));
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_") && a.len() == 6 + 32, "{a}");
        assert_eq!(signing_key(&a).unwrap().len(), 24);
    }

    #[test]
    fn subscriptions() {
        assert_eq!(
            parse_events(Some(&json!([
                "connector.installed",
                "connector.installed",
                "approval.requested"
            ])))
            .unwrap(),
            ["connector.installed", "approval.requested"]
        );
        assert_eq!(parse_events(Some(&json!(["*"]))).unwrap(), ["*"]);
        for bad in [
            json!([]),
            json!("*"),
            json!(["nope.x"]),
            json!([1]),
            json!(["*", "connector.installed"]),
        ] {
            assert!(
                matches!(parse_events(Some(&bad)), Err(Error::InvalidParameter { ref param, .. }) if param == "events"),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_events(None),
            Err(Error::MissingParameter { .. })
        ));
        let all = vec!["*".to_string()];
        assert!(subscribed(&all, "binding.created"));
        assert!(!subscribed(&all, TEST_EVENT), "test events are targeted");
        let one = vec!["binding.created".to_string()];
        assert!(subscribed(&one, "binding.created") && !subscribed(&one, "binding.deleted"));
    }

    #[test]
    fn urls_follow_the_outbound_guard() {
        let allow = AllowList::parse("127.0.0.1:9911");
        assert_eq!(
            check_url("https://hooks.example.com/in?t=1", &allow).unwrap(),
            "https://hooks.example.com/in?t=1"
        );
        assert!(check_url("http://127.0.0.1:9911/hook", &allow).is_ok());
        for refused in [
            "http://hooks.example.com/in",
            "https://127.0.0.1/in",
            "http://127.0.0.1:9912/hook",
            "https://169.254.169.254/latest",
            "https://localhost/x",
            "https://user:pw@hooks.example.com/",
            "https://2130706433/",
            "ftp://hooks.example.com/",
        ] {
            assert!(
                matches!(check_url(refused, &allow), Err(Error::TargetNotAllowed { ref param, .. }) if param == "url"),
                "{refused}"
            );
        }
        for malformed in ["hooks.example.com", "", "https://hooks.example.com/#x"] {
            assert!(
                matches!(check_url(malformed, &allow), Err(Error::InvalidParameter { ref param, .. }) if param == "url"),
                "{malformed}"
            );
        }
        assert_eq!(
            host_of("https://hooks.example.com/in?t=secret"),
            "hooks.example.com"
        );
    }

    #[test]
    fn answers_and_the_retry_schedule() {
        assert_eq!(verdict(Some(204)), Verdict::Delivered);
        assert_eq!(verdict(Some(410)), Verdict::Gone);
        for s in [Some(301), Some(404), Some(500), None] {
            assert_eq!(verdict(s), Verdict::Retry);
        }
        // 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then hourly, ±10 %.
        let pauses: Vec<i64> = (1..=8)
            .map(|n| next_attempt(n, 0, 1_000, 1.0, 0.5).unwrap() - 1_000)
            .collect();
        assert_eq!(
            pauses,
            [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 3_600_000, 3_600_000]
        );
        assert_eq!(next_attempt(1, 0, 0, 1.0, 0.0), Some(4_500));
        assert!(next_attempt(1, 0, 0, 1.0, 0.999).unwrap() < 5_500);
        // Until an attempt fails 24 h or more after the first: then none.
        let mut at = 0;
        let mut attempts = 1;
        while let Some(next) = next_attempt(attempts, 0, at, 1.0, 0.5) {
            at = next;
            attempts += 1;
        }
        assert!(at >= HORIZON_MS, "retried for at least 24 h: last at {at}");
        assert!(at < HORIZON_MS + 3_600_000);
        assert_eq!(attempts, 6 + 23 + 1, "{attempts}");
        // The test scale shrinks pauses and horizon alike; nonsense means 1.
        assert_eq!(next_attempt(1, 0, 0, 0.001, 0.5), Some(5));
        assert_eq!(next_attempt(2, 0, 86_400, 0.001, 0.5), None);
        assert_eq!(next_attempt(1, 0, 0, 0.0, 0.5), Some(5_000));
        assert_eq!(next_attempt(1, 0, 0, f64::NAN, 0.5), Some(5_000));
    }
}
