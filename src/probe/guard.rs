//! The SSRF guard: the pure decision whether one outbound URL may be
//! fetched. Every request the worker makes for a tenant (verify, test,
//! health, OAuth) passes through [`check`], and so does every redirect hop.
//!
//! The check sees the host as the WHATWG parser normalised it, so numeric
//! disguises of an address (`2130706433`, `0x7f.1`, `127.1`, `017700000001`)
//! arrive here as the `127.0.0.1` they mean. What it cannot see is where a
//! public-looking name resolves to; that is left to the platform's fetch.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// `PROBE_ALLOW_HOSTS`: exact host:port pairs that may be reached over plain http
/// (and that are exempt from the address rules), e.g. "127.0.0.1:9911,127.0.0.1:9912".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllowList(BTreeSet<(String, u16)>);

impl AllowList {
    /// Comma or space separated `host:port` entries (`[::1]:80` for IPv6).
    /// Blank entries, entries without a port and entries with a port that is
    /// not 1–65535 are ignored, so a typo narrows the list rather than
    /// widening it.
    pub fn parse(s: &str) -> AllowList {
        let entries = s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty())
            .filter_map(|entry| {
                let (host, port) = entry.rsplit_once(':')?;
                let port = port.parse::<u16>().ok().filter(|p| *p != 0)?;
                Some((normalise_host(host)?, port))
            })
            .collect();
        AllowList(entries)
    }

    /// Whether `host:port` is listed; `host` is compared in its normalised
    /// form (lower case, canonical IP text, IPv6 in brackets).
    pub fn contains(&self, host: &str, port: u16) -> bool {
        normalise_host(host).is_some_and(|host| self.0.contains(&(host, port)))
    }

    fn contains_normalised(&self, host: &str, port: u16) -> bool {
        self.0.contains(&(host.to_owned(), port))
    }
}

/// Why a target is refused: a user-safe sentence that never contains the full URL
/// (URLs can carry credentials in query strings) — name only the host and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Checks one outbound URL (every redirect hop is checked again by the caller).
pub fn check(url: &str, allow: &AllowList) -> Result<Url, Refused> {
    let refuse = |message: String| Err(Refused(message));
    let Ok(parsed) = Url::parse(url) else {
        return refuse("The target is not a valid absolute URL.".into());
    };
    let scheme = parsed.scheme();
    if scheme != "https" && scheme != "http" {
        // A parsed scheme is only ASCII letters, digits, `+`, `-` and `.`.
        return refuse(format!("Only https targets are allowed, not {scheme}."));
    }
    let Some(host) = parsed.host() else {
        return refuse("The target URL has no host.".into());
    };
    let host_text = host_text(&host);
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return refuse(format!(
            "The target URL for {host_text} must not carry a user name or password."
        ));
    }
    let Some(port) = parsed.port_or_known_default() else {
        return refuse(format!("The target URL for {host_text} has no port."));
    };
    // The exemption needs the host spelled as listed: a numeric disguise
    // (`2130706433`, `0x7f.1`) of a listed address is still a disguise.
    if allow.contains_normalised(&host_text, port)
        && literal_host(url).is_some_and(|h| h == host_text)
    {
        return Ok(parsed);
    }
    if scheme == "http" {
        return refuse(format!(
            "Plain http is only allowed to the development pairs of PROBE_ALLOW_HOSTS; {host_text}:{port} needs https (or, on a development deployment, a PROBE_ALLOW_HOSTS entry '{host_text}:{port}')."
        ));
    }
    if port < 1024 && port != 80 && port != 443 {
        return refuse(format!(
            "Port {port} on {host_text} is refused: only 80, 443 and 1024-65535 are allowed."
        ));
    }
    if let Some(why) = host_rule(&host) {
        return refuse(format!("The target host {host_text} is refused: {why}."));
    }
    Ok(parsed)
}

/// The host exactly as written in the URL, lower-cased, without the port.
fn literal_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#', '\\']).next()?;
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next()?
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, _)| h)
    };
    Some(host.to_ascii_lowercase().trim_end_matches('.').to_string())
}

/// The host as the allow list stores it: what `Url` serialises, minus any
/// trailing dots of a domain (`localhost.` is `localhost`).
fn host_text<S: AsRef<str>>(host: &Host<S>) -> String {
    match host {
        Host::Domain(name) => name.as_ref().trim_end_matches('.').to_owned(),
        other => other.to_string(),
    }
}

/// Runs an allow-list host through the same parser as URLs so that
/// `LOCALHOST`, `127.1` and `[0::1]` match what [`check`] sees.
fn normalise_host(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.');
    Host::parse(host).ok().map(|host| host_text(&host))
}

/// The address or naming rule a host breaks, if any.
fn host_rule(host: &Host<&str>) -> Option<String> {
    match host {
        Host::Ipv4(ip) => v4_rule(*ip).map(str::to_owned),
        Host::Ipv6(ip) => v6_rule(*ip),
        Host::Domain(name) => domain_rule(name).map(str::to_owned),
    }
}

/// Special-purpose IPv4 blocks (RFC 6890 and friends) as (network, prefix).
const V4_REFUSED: &[([u8; 4], u32, &str)] = &[
    ([0, 0, 0, 0], 8, "\"this network\" address"),
    ([10, 0, 0, 0], 8, "private address"),
    ([100, 64, 0, 0], 10, "carrier-grade NAT address"),
    ([127, 0, 0, 0], 8, "loopback address"),
    ([169, 254, 0, 0], 16, "link-local or cloud metadata address"),
    ([172, 16, 0, 0], 12, "private address"),
    ([192, 0, 0, 0], 24, "IETF protocol address"),
    ([192, 0, 2, 0], 24, "documentation address"),
    ([192, 168, 0, 0], 16, "private address"),
    ([198, 18, 0, 0], 15, "benchmarking address"),
    ([198, 51, 100, 0], 24, "documentation address"),
    ([203, 0, 113, 0], 24, "documentation address"),
    ([224, 0, 0, 0], 4, "multicast address"),
    ([240, 0, 0, 0], 4, "reserved or broadcast address"),
];

fn v4_rule(ip: Ipv4Addr) -> Option<&'static str> {
    let addr = u32::from(ip);
    V4_REFUSED
        .iter()
        .find(|(net, prefix, _)| addr >> (32 - prefix) == u32::from_be_bytes(*net) >> (32 - prefix))
        .map(|(_, _, why)| *why)
}

/// IPv6 blocks refused outright, as (network, prefix).
const V6_REFUSED: &[(u128, u32, &str)] = &[
    (0xfe80 << 112, 10, "link-local address"),
    (0xfec0 << 112, 10, "site-local address"),
    (0xfc00 << 112, 7, "unique-local address"),
    (0xff00 << 112, 8, "multicast address"),
    (
        (0x2001 << 112) | (0x0db8 << 96),
        32,
        "documentation address",
    ),
    // RFC 8215 local-use NAT64: translates into the operator's own network.
    (
        (0x64 << 112) | (0xff9b << 96) | (1 << 80),
        48,
        "local-use NAT64 address",
    ),
    (0x100 << 112, 64, "discard-only address"),
];

fn v6_rule(ip: Ipv6Addr) -> Option<String> {
    if ip.is_unspecified() {
        return Some("unspecified address".into());
    }
    if ip.is_loopback() {
        return Some("loopback address".into());
    }
    let addr = u128::from(ip);
    if let Some((_, _, why)) = V6_REFUSED
        .iter()
        .find(|(net, prefix, _)| addr >> (128 - prefix) == net >> (128 - prefix))
    {
        return Some((*why).into());
    }
    let embedded = embedded_v4(ip)?;
    v4_rule(embedded).map(|why| format!("it embeds {embedded}, a {why}"))
}

/// The IPv4 address an IPv6 address carries by a standard translation, if any:
/// mapped `::ffff:a.b.c.d`, SIIT `::ffff:0:a.b.c.d`, compatible `::a.b.c.d`,
/// NAT64 `64:ff9b::a.b.c.d` and 6to4 `2002:aabb:ccdd::`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo]
        | [0, 0, 0, 0, 0xffff, 0, hi, lo]
        | [0, 0, 0, 0, 0, 0, hi, lo]
        | [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

/// Names that only mean something inside a private network or a cloud VM.
fn domain_rule(name: &str) -> Option<&'static str> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return Some("loopback name");
    }
    if name == "metadata.google.internal" || name == "metadata" || name == "instance-data" {
        return Some("cloud metadata service");
    }
    const PRIVATE_SUFFIXES: &[&str] = &[".internal", ".local", ".localdomain", ".home.arpa"];
    if PRIVATE_SUFFIXES.iter().any(|suffix| name.ends_with(suffix)) {
        return Some("private network name");
    }
    if !name.contains('.') {
        return Some("single-label intranet name");
    }
    None
}

#[cfg(test)]
mod tests;
