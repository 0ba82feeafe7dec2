//! Asking for what an install needs: the listing's `config_schema`
//! properties and `auth.fields`, each with its label, default, whether it is
//! required, its pattern; secrets read without echo. When stdin is not a
//! terminal each answer is one line of stdin, so scripts can pipe them.
//! Answers are checked here as a courtesy (type, enum, pattern, lengths,
//! bounds; formats such as `uri` are left to the server, which decides).

use crate::error::{Failure, Result};
use serde_json::{Map, Number, Value};
use std::io::{BufRead, IsTerminal, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Config,
    Auth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Number,
    Boolean,
    /// An array or object, typed as JSON.
    Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub section: Section,
    pub key: String,
    pub label: String,
    pub help: Option<String>,
    pub required: bool,
    pub secret: bool,
    pub default: Option<Value>,
    pub pattern: Option<String>,
    pub kind: Kind,
    pub choices: Vec<Value>,
    pub example: Option<String>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
}

impl Field {
    /// The name the API gives it in errors: `config.base_url`, `auth.key`.
    pub fn param(&self) -> String {
        match self.section {
            Section::Config => format!("config.{}", self.key),
            Section::Auth => format!("auth.{}", self.key),
        }
    }
}

fn kind_of(schema: &Value) -> Kind {
    let t = match &schema["type"] {
        Value::String(s) => s.as_str(),
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string"),
        _ => "string",
    };
    match t {
        "integer" => Kind::Integer,
        "number" => Kind::Number,
        "boolean" => Kind::Boolean,
        "array" | "object" => Kind::Json,
        _ => Kind::String,
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The fields an install of `manifest` asks for: config first (the
/// manifest's order), then the credential's fields.
pub fn fields(manifest: &Value) -> Vec<Field> {
    let mut out = vec![];
    let schema = &manifest["config_schema"];
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(props) = schema["properties"].as_object() {
        for (k, p) in props {
            let text = |n: &str| p.get(n).and_then(Value::as_str).map(str::to_string);
            let num = |n: &str| p.get(n).and_then(Value::as_f64);
            out.push(Field {
                section: Section::Config,
                key: k.clone(),
                label: text("title").unwrap_or_else(|| k.clone()),
                help: text("description"),
                required: required.contains(&k.as_str()),
                secret: p.get("writeOnly").and_then(Value::as_bool) == Some(true),
                default: p.get("default").cloned(),
                pattern: text("pattern"),
                kind: kind_of(p),
                choices: p["enum"].as_array().cloned().unwrap_or_default(),
                example: p["examples"].as_array().and_then(|a| a.first()).map(shown),
                min_length: p.get("minLength").and_then(Value::as_u64),
                max_length: p.get("maxLength").and_then(Value::as_u64),
                minimum: num("minimum"),
                maximum: num("maximum"),
            });
        }
    }
    for f in manifest["auth"]["fields"].as_array().into_iter().flatten() {
        let text = |n: &str| f.get(n).and_then(Value::as_str).map(str::to_string);
        let Some(key) = text("key") else { continue };
        out.push(Field {
            section: Section::Auth,
            label: text("label").unwrap_or_else(|| key.clone()),
            key,
            help: text("help"),
            required: f.get("required").and_then(Value::as_bool).unwrap_or(false),
            secret: f.get("secret").and_then(Value::as_bool).unwrap_or(false),
            default: None,
            pattern: text("pattern"),
            kind: Kind::String,
            choices: vec![],
            example: text("placeholder"),
            min_length: None,
            max_length: None,
            minimum: None,
            maximum: None,
        });
    }
    out
}

/// The question for one field, e.g.
/// `Store URL (config.base_url; required; pattern ^https?://…; e.g. https://store.example.com): `.
pub fn question(f: &Field) -> String {
    let mut facts = vec![f.param()];
    if f.required && f.default.is_none() {
        facts.push("required".into());
    } else {
        facts.push("optional".into());
    }
    if f.secret {
        facts.push("secret, not echoed".into());
    }
    if !f.choices.is_empty() {
        let c: Vec<String> = f.choices.iter().map(shown).collect();
        facts.push(format!("one of {}", c.join(", ")));
    }
    match f.kind {
        Kind::Integer => facts.push("a whole number".into()),
        Kind::Number => facts.push("a number".into()),
        Kind::Boolean => facts.push("true or false".into()),
        Kind::Json => facts.push("JSON".into()),
        Kind::String => {}
    }
    if let Some(p) = &f.pattern {
        facts.push(format!("pattern {p}"));
    }
    if let Some(e) = &f.example {
        facts.push(format!("e.g. {e}"));
    }
    let default = f
        .default
        .as_ref()
        .map(|d| format!(" [{}]", shown(d)))
        .unwrap_or_default();
    format!("{} ({}){default}: ", f.label, facts.join("; "))
}

/// Turns an answer into the value sent. `Ok(None)`: nothing is sent (an
/// empty answer to an optional field, or to one whose default the server
/// fills in). Errors name the field.
pub fn parse(f: &Field, answer: &str) -> std::result::Result<Option<Value>, String> {
    let p = f.param();
    let text = if f.secret { answer } else { answer.trim() };
    if text.is_empty() {
        return if f.required && f.default.is_none() {
            Err(format!("{p} is required"))
        } else {
            Ok(None)
        };
    }
    let v = match f.kind {
        Kind::String if f.section == Section::Auth && f.key == "headers" => {
            // One `Name: value` per line; a typed `\n` separates them.
            Value::String(text.replace("\\n", "\n"))
        }
        Kind::String => Value::String(text.to_string()),
        Kind::Integer => text
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("{p} must be a whole number"))?,
        Kind::Number => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("{p} must be a number"))?,
        Kind::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "on" => Value::Bool(true),
            "false" | "no" | "n" | "0" | "off" => Value::Bool(false),
            _ => return Err(format!("{p} must be true or false")),
        },
        Kind::Json => serde_json::from_str(text).map_err(|e| format!("{p} must be JSON ({e})"))?,
    };
    if !f.choices.is_empty() && !f.choices.contains(&v) {
        let c: Vec<String> = f.choices.iter().map(shown).collect();
        return Err(format!("{p} must be one of {}", c.join(", ")));
    }
    if let Value::String(s) = &v {
        let n = s.chars().count() as u64;
        if f.min_length.is_some_and(|m| n < m) {
            return Err(format!(
                "{p} must be at least {} characters",
                f.min_length.unwrap()
            ));
        }
        if f.max_length.is_some_and(|m| n > m) {
            return Err(format!(
                "{p} must be at most {} characters",
                f.max_length.unwrap()
            ));
        }
        if let Some(pat) = &f.pattern {
            // A pattern this engine cannot compile is left to the server.
            if let Ok(re) = regex_lite::Regex::new(pat) {
                if !re.is_match(s) {
                    return Err(if f.secret {
                        format!("{p} does not have the expected format ({pat})")
                    } else {
                        format!("{p} must match {pat}")
                    });
                }
            }
        }
    }
    if let Some(x) = v.as_f64() {
        if f.minimum.is_some_and(|m| x < m) {
            return Err(format!("{p} must be at least {}", f.minimum.unwrap()));
        }
        if f.maximum.is_some_and(|m| x > m) {
            return Err(format!("{p} must be at most {}", f.maximum.unwrap()));
        }
    }
    Ok(Some(v))
}

/// Where answers come from.
pub trait Ask {
    /// A person at a terminal: a refused answer is asked again.
    fn interactive(&self) -> bool;
    /// One answer; `None` when input has ended.
    fn ask(&mut self, question: &str, secret: bool) -> std::io::Result<Option<String>>;
    /// A line for the person (stderr).
    fn say(&mut self, line: &str);
}

/// The process's stdin: a terminal (secrets without echo) or piped lines.
pub struct Stdin {
    tty: bool,
}

impl Stdin {
    pub fn new() -> Stdin {
        Stdin {
            tty: std::io::stdin().is_terminal(),
        }
    }
}

impl Ask for Stdin {
    fn interactive(&self) -> bool {
        self.tty
    }

    fn ask(&mut self, question: &str, secret: bool) -> std::io::Result<Option<String>> {
        if self.tty && secret {
            return match rpassword::prompt_password(question) {
                Ok(s) => Ok(Some(s)),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
                Err(e) => Err(e),
            };
        }
        let mut err = std::io::stderr();
        let _ = write!(err, "{question}");
        let _ = err.flush();
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line)? == 0 {
            if !self.tty {
                let _ = writeln!(err);
            }
            return Ok(None);
        }
        if !self.tty {
            // Piped answers are not echoed by a terminal: end the line.
            let _ = writeln!(err, "{}", if secret { "********" } else { "" });
        }
        Ok(Some(line.trim_end_matches(['\n', '\r']).to_string()))
    }

    fn say(&mut self, line: &str) {
        eprintln!("{line}");
    }
}

/// Asks for one field until it has an acceptable answer (a terminal) or
/// fails (piped input: the first refused answer ends the command).
pub fn ask_field(f: &Field, ask: &mut dyn Ask) -> Result<Option<Value>> {
    if let Some(h) = &f.help {
        ask.say(&format!("  {}", crate::ui::clip(h, 240)));
    }
    loop {
        let answer = ask
            .ask(&question(f), f.secret)
            .map_err(|e| Failure::Local(format!("cannot read an answer: {e}")))?;
        let Some(answer) = answer else {
            return Err(Failure::Usage(format!(
                "no answer for {} (input ended): pass it with --{} {}=…",
                f.param(),
                if f.secret { "secret" } else { "set" },
                f.key
            )));
        };
        match parse(f, &answer) {
            Ok(v) => return Ok(v),
            Err(m) if ask.interactive() => ask.say(&format!("  ✗ {m}; try again")),
            Err(m) => return Err(Failure::Usage(m)),
        }
    }
}

/// The answers of an install, by section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    pub config: Map<String, Value>,
    pub auth: Map<String, Value>,
}

impl Answers {
    pub fn set(&mut self, f: &Field, v: Option<Value>) {
        let m = match f.section {
            Section::Config => &mut self.config,
            Section::Auth => &mut self.auth,
        };
        match v {
            Some(v) => {
                m.insert(f.key.clone(), v);
            }
            None => {
                m.remove(&f.key);
            }
        }
    }
}

/// Every field's answer: from `given` (`--set`/`--secret`, by key) when
/// there, else asked.
pub fn collect(fields: &[Field], given: &[(String, String)], ask: &mut dyn Ask) -> Result<Answers> {
    for (k, _) in given {
        if !fields.iter().any(|f| &f.key == k) {
            let known: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
            return Err(Failure::Usage(format!(
                "this listing has no field '{k}' (its fields: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
    }
    let mut out = Answers::default();
    for f in fields {
        let v = match given.iter().rev().find(|(k, _)| k == &f.key) {
            Some((_, text)) => parse(f, text).map_err(Failure::Usage)?,
            None => ask_field(f, ask)?,
        };
        out.set(f, v);
    }
    Ok(out)
}

/// The field an API error's `param` names (`config.base_url`, `auth.key`).
pub fn field_for<'a>(fields: &'a [Field], param: &str) -> Option<&'a Field> {
    let (section, rest) = if let Some(r) = param.strip_prefix("config.") {
        (Section::Config, r)
    } else if let Some(r) = param.strip_prefix("auth.") {
        (Section::Auth, r)
    } else {
        return None;
    };
    let key = rest.split('.').next().unwrap_or(rest);
    fields.iter().find(|f| f.section == section && f.key == key)
}

/// Splits `key=value`.
pub fn pair(s: &str) -> std::result::Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected key=value, got '{s}'")),
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use serde_json::json;

    /// Scripted answers; records what was asked and said.
    pub struct Script {
        pub tty: bool,
        pub answers: Vec<String>,
        pub asked: Vec<(String, bool)>,
        pub said: Vec<String>,
    }

    impl Script {
        pub fn new(tty: bool, answers: &[&str]) -> Script {
            Script {
                tty,
                answers: answers.iter().rev().map(|s| s.to_string()).collect(),
                asked: vec![],
                said: vec![],
            }
        }
    }

    impl Ask for Script {
        fn interactive(&self) -> bool {
            self.tty
        }
        fn ask(&mut self, q: &str, secret: bool) -> std::io::Result<Option<String>> {
            self.asked.push((q.to_string(), secret));
            Ok(self.answers.pop())
        }
        fn say(&mut self, line: &str) {
            self.said.push(line.to_string());
        }
    }

    pub fn manifest() -> Value {
        json!({
            "id": "shop",
            "config_schema": {
                "type": "object",
                "properties": {
                    "base_url": {"type": "string", "title": "Store URL", "description": "Where the store is.",
                                 "format": "uri", "pattern": "^https?://[^ /]+$", "examples": ["https://store.example.com"]},
                    "page_size": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                    "read_only": {"type": "boolean", "default": true},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    "tags": {"type": ["array", "null"]}
                },
                "required": ["base_url"]
            },
            "auth": {"mode": "api_key", "fields": [
                {"key": "key", "label": "Access token", "secret": true, "required": true, "pattern": "^tok_[a-z0-9]+$"}
            ]}
        })
    }

    #[test]
    fn fields_come_from_the_schema_then_the_credential() {
        let f = fields(&manifest());
        let keys: Vec<String> = f.iter().map(Field::param).collect();
        assert_eq!(
            keys,
            [
                "config.base_url",
                "config.page_size",
                "config.read_only",
                "config.unit",
                "config.tags",
                "auth.key"
            ]
        );
        assert!(f[0].required && !f[0].secret);
        assert_eq!(f[0].label, "Store URL");
        assert_eq!(f[1].kind, Kind::Integer);
        assert_eq!(f[1].default, Some(json!(20)));
        assert_eq!(f[2].kind, Kind::Boolean);
        assert_eq!(f[4].kind, Kind::Json);
        assert!(f[5].secret && f[5].required);
        assert_eq!(f[5].pattern.as_deref(), Some("^tok_[a-z0-9]+$"));
    }

    #[test]
    fn the_question_shows_label_param_required_pattern_example_and_default() {
        let f = fields(&manifest());
        assert_eq!(
            question(&f[0]),
            "Store URL (config.base_url; required; pattern ^https?://[^ /]+$; e.g. https://store.example.com): "
        );
        assert_eq!(
            question(&f[1]),
            "page_size (config.page_size; optional; a whole number) [20]: "
        );
        assert!(question(&f[3]).contains("one of celsius, fahrenheit"));
        assert!(question(&f[5]).contains("secret, not echoed"));
    }

    #[test]
    fn answers_are_typed_and_checked() {
        let f = fields(&manifest());
        assert_eq!(
            parse(&f[0], " https://a.example ").unwrap(),
            Some(json!("https://a.example"))
        );
        assert_eq!(
            parse(&f[0], "ftp://x").unwrap_err(),
            "config.base_url must match ^https?://[^ /]+$"
        );
        assert_eq!(parse(&f[0], "").unwrap_err(), "config.base_url is required");
        assert_eq!(parse(&f[1], "").unwrap(), None, "the server's default");
        assert_eq!(parse(&f[1], "42").unwrap(), Some(json!(42)));
        assert!(parse(&f[1], "4.2").unwrap_err().contains("whole number"));
        assert!(parse(&f[1], "0").unwrap_err().contains("at least 1"));
        assert_eq!(parse(&f[2], "no").unwrap(), Some(json!(false)));
        assert!(parse(&f[2], "maybe").is_err());
        assert!(parse(&f[3], "kelvin").unwrap_err().contains("one of"));
        assert_eq!(parse(&f[4], "[1, 2]").unwrap(), Some(json!([1, 2])));
        assert!(parse(&f[4], "[1,").is_err());
        assert_eq!(parse(&f[5], "tok_abc").unwrap(), Some(json!("tok_abc")));
        let e = parse(&f[5], "nope").unwrap_err();
        assert!(
            e.starts_with("auth.key does not have the expected format"),
            "{e}"
        );
    }

    #[test]
    fn a_terminal_is_asked_again_after_a_refused_answer() {
        let f = fields(&manifest());
        let mut s = Script::new(
            true,
            &["ftp://x", "https://shop.example", "", "", "", "", "tok_1"],
        );
        let a = collect(&f, &[], &mut s).unwrap();
        assert_eq!(a.config["base_url"], "https://shop.example");
        assert_eq!(a.config.len(), 1, "defaults are left to the server");
        assert_eq!(a.auth["key"], "tok_1");
        assert_eq!(s.asked.len(), 7);
        assert!(s.asked[6].1, "the secret is asked as one");
        assert!(
            s.said.iter().any(|l| l.contains("must match")),
            "{:?}",
            s.said
        );
    }

    #[test]
    fn piped_answers_fail_on_the_first_refusal_naming_the_field() {
        let f = fields(&manifest());
        let mut s = Script::new(false, &["ftp://x"]);
        match collect(&f, &[], &mut s) {
            Err(e @ Failure::Usage(_)) => {
                assert_eq!(e.exit_code(), crate::error::USAGE);
                assert!(e.describe().unwrap().contains("config.base_url"));
            }
            other => panic!("{other:?}"),
        }
        // Input that ends early says how to give the value instead.
        let mut s = Script::new(false, &["https://a.example", "", "", "", ""]);
        match collect(&f, &[], &mut s) {
            Err(Failure::Usage(m)) => assert!(m.contains("--secret key="), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn given_values_are_not_asked_and_unknown_keys_are_refused() {
        let f = fields(&manifest());
        let given = vec![
            ("base_url".to_string(), "https://g.example".to_string()),
            ("key".to_string(), "tok_given".to_string()),
        ];
        let mut s = Script::new(false, &["", "", "", ""]);
        let a = collect(&f, &given, &mut s).unwrap();
        assert_eq!(a.config["base_url"], "https://g.example");
        assert_eq!(a.auth["key"], "tok_given");
        assert_eq!(s.asked.len(), 4, "only the four optional fields");
        let mut s = Script::new(false, &[]);
        match collect(&f, &[("nope".into(), "1".into())], &mut s) {
            Err(Failure::Usage(m)) => assert!(m.contains("base_url"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn api_params_map_back_to_fields() {
        let f = fields(&manifest());
        assert_eq!(field_for(&f, "config.base_url").unwrap().key, "base_url");
        assert_eq!(field_for(&f, "auth.key").unwrap().section, Section::Auth);
        assert_eq!(field_for(&f, "config.tags.0").unwrap().key, "tags");
        assert!(field_for(&f, "name").is_none());
        assert!(field_for(&f, "config.nope").is_none());
    }

    #[test]
    fn pairs_split_on_the_first_equals() {
        assert_eq!(pair("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert_eq!(pair("a=").unwrap(), ("a".into(), "".into()));
        assert!(pair("=x").is_err());
        assert!(pair("x").is_err());
    }
}
