//! URL templates: where in a URL each placeholder sits, and what a value may
//! be there (the base URL from config, one DNS label of a literal host, a
//! percent-encoded part of a path segment, query value or fragment; an
//! argument never in the scheme, host or port).

use super::{argument, invalid, lookup, parse, Ns, Part, Scope, Slot, TemplateError, Values};
use url::Url;

/// Renders a probe URL. A placeholder at the very start is the base URL
/// (an absolute http(s) URL without credentials, query or fragment, inserted
/// without its trailing `/`); one inside the host of a literal `scheme://`
/// must be a single DNS label; every other value is percent-encoded down to
/// the RFC 3986 unreserved characters. The answer is the parsed URL's
/// normalised serialisation.
pub fn render_url(template: &str, v: &Values) -> Result<String, TemplateError> {
    url_in(template, &Scope::from(v))
}

/// [`render_url`] over a [`Scope`]: an argument may fill (part of) a path
/// segment, a query value or the fragment, never the scheme, host or port.
pub fn url_in(template: &str, v: &Scope) -> Result<String, TemplateError> {
    let parts = parse(template)?;
    let mut out = String::with_capacity(template.len());
    let mut at;
    let mut rest = parts.as_slice();
    match rest {
        [Part::Slot(base), next @ ..] => {
            if base.ns == Ns::Args {
                return Err(argument(
                    base,
                    format!(
                        "{} cannot be the base URL: a URL template starts with https:// or a config value.",
                        base.name()
                    ),
                ));
            }
            out.push_str(&render_base(base, v)?);
            let continues = match next.first() {
                None => true,
                Some(Part::Text(text)) => text.starts_with(['/', '?', '#']),
                Some(Part::Slot(_)) => false,
            };
            if !continues {
                return Err(invalid(format!(
                    "The probe URL template must continue with '/', '?' or '#' after {}.",
                    base.name()
                )));
            }
            at = Place::Path;
            rest = next;
        }
        [Part::Text(first), ..] if scheme_prefix(first).is_some() => at = Place::Scheme,
        _ => return Err(invalid(
            "The probe URL template must start with a scheme (https://) or a base URL placeholder."
                .into(),
        )),
    }
    for part in rest {
        match part {
            Part::Text(text) => {
                at = at.after(text);
                out.push_str(text);
            }
            Part::Slot(slot) => {
                if slot.ns == Ns::Args && matches!(at, Place::Scheme | Place::Authority) {
                    return Err(argument(
                        slot,
                        format!("{} cannot sit in the URL's host.", slot.name()),
                    ));
                }
                let value = lookup(slot, v)?;
                match at {
                    Place::Scheme | Place::Authority => {
                        if !is_dns_label(&value) {
                            return Err(invalid(format!(
                                "{} must be a single DNS label (letters, digits and inner hyphens) to sit in the URL's host.",
                                slot.name()
                            )));
                        }
                        out.push_str(&value);
                    }
                    Place::Path if value.chars().all(|c| c == '.') => {
                        let message =
                            format!("{} cannot be '.' or '..' in the URL path.", slot.name());
                        return Err(if slot.ns == Ns::Args {
                            argument(slot, message)
                        } else {
                            invalid(message)
                        });
                    }
                    Place::Base | Place::Path | Place::Query | Place::Fragment => {
                        percent_encode_into(&value, &mut out);
                    }
                }
            }
        }
    }
    Url::parse(&out)
        .map(String::from)
        .map_err(|_| invalid("The probe URL template does not produce a valid URL.".into()))
}

/// Checks a base URL value and returns its normalised text without trailing `/`.
fn render_base(slot: &Slot, v: &Scope) -> Result<String, TemplateError> {
    let value = lookup(slot, v)?;
    let name = slot.name();
    let Ok(base) = Url::parse(&value) else {
        return Err(invalid(format!(
            "{name} must be an absolute http or https URL."
        )));
    };
    if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!(
            "{name} must be an absolute http or https URL."
        )));
    }
    if !base.username().is_empty() || base.password().is_some() {
        return Err(invalid(format!(
            "{name} must not contain a user name or password."
        )));
    }
    if base.query().is_some() || base.fragment().is_some() {
        return Err(invalid(format!(
            "{name} must not contain a query (?) or fragment (#)."
        )));
    }
    Ok(base.as_str().trim_end_matches('/').to_owned())
}

/// Where each placeholder of a URL template sits, in order: the base URL
/// slot at the very start is `Place::Base`. Unparseable templates give none.
pub fn url_places<'t>(template: &'t str) -> Vec<(Slot<'t>, Place)> {
    let Ok(parts) = parse(template) else {
        return vec![];
    };
    let mut out = vec![];
    let mut at = Place::Scheme;
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Slot(slot) if i == 0 => {
                out.push((*slot, Place::Base));
                at = Place::Path;
            }
            Part::Slot(slot) => out.push((*slot, at)),
            Part::Text(text) => at = at.after(text),
        }
    }
    out
}

/// Where in a URL the text written so far has reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A placeholder that opens the template: the base URL.
    Base,
    /// Before the `://` of the template's literal scheme.
    Scheme,
    Authority,
    Path,
    Query,
    Fragment,
}

impl Place {
    fn after(self, text: &str) -> Place {
        let (mut at, text) = match self {
            Place::Scheme => match text.split_once("://") {
                Some((_, rest)) => (Place::Authority, rest),
                None => (Place::Scheme, ""),
            },
            Place::Base => (Place::Path, text),
            other => (other, text),
        };
        for c in text.chars() {
            at = match (at, c) {
                (Place::Authority, '/' | '\\') => Place::Path,
                (Place::Authority | Place::Path, '?') => Place::Query,
                (Place::Authority | Place::Path | Place::Query, '#') => Place::Fragment,
                (other, _) => other,
            };
        }
        at
    }
}

/// `Some(scheme)` when `text` starts with `scheme://`.
fn scheme_prefix(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok).then_some(scheme)
}

/// `^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`
fn is_dns_label(s: &str) -> bool {
    let bytes = s.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Percent-encodes every byte but the RFC 3986 unreserved characters.
fn percent_encode_into(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}
