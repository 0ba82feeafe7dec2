use super::*;

/// What the e2e suite sets: two fake providers on loopback, one IPv6.
const DEV: &str = "127.0.0.1:9911, [::1]:9913";

/// (url, allow list, expected to pass)
const CASES: &[(&str, &str, bool)] = &[
    // Public https targets.
    ("https://api.github.com/user", "", true),
    ("https://API.GitHub.com./user", "", true),
    ("https://1.1.1.1/", "", true),
    ("https://[2606:4700:4700::1111]/", "", true),
    ("https://api.example.com:8443/v1", "", true),
    ("https://api.example.com:443/", "", true),
    ("https://api.example.com:80/", "", true),
    ("https://api.example.com:65535/", "", true),
    ("https://172.32.0.1/", "", true),
    ("https://172.15.255.255/", "", true),
    ("https://100.128.0.1/", "", true),
    ("https://8.8.8.8/?token=x", "", true),
    ("https://[2002:808:808::]/", "", true),
    ("https://[::ffff:8.8.8.8]/", "", true),
    // Hosts must be ASCII (punycode): Unicode hosts are refused, never mapped
    // (idna_adapter is pinned to its ASCII-only flavour; no homographs).
    ("https://xn--bcher-kva.example/", "", true),
    ("https://bücher.example/", "", false),
    ("https://аpi.github.com/user", "", false),
    ("https://x.atlassian.net/rest/api/3/myself", "", true),
    // Plain http: only the allow list, and only the exact port.
    ("http://api.github.com/", "", false),
    ("http://api.github.com/", DEV, false),
    ("http://1.1.1.1/", "", false),
    ("http://127.0.0.1:9911/token", DEV, true),
    ("http://127.0.0.1:9912/token", DEV, false),
    ("http://127.0.0.1:9911/token", "", false),
    ("http://127.1:9911/", DEV, false), // a disguise of a listed address is not the listed host
    ("http://[::1]:9913/", DEV, true),
    ("http://[0:0::1]:9913/", DEV, false),
    ("http://localhost:9911/", DEV, false),
    ("https://127.0.0.1:9911/", DEV, true),
    ("https://127.0.0.2/", DEV, false),
    // Loopback and its disguises.
    ("https://localhost/", "", false),
    ("https://LOCALHOST./", "", false),
    ("https://foo.localhost/", "", false),
    ("https://localhost:8443/", "", false),
    ("https://127.0.0.1/", "", false),
    ("https://[::1]/", "", false),
    ("https://[::]/", "", false),
    ("https://2130706433/", "", false),
    ("https://0x7f.1/", "", false),
    ("https://017700000001/", "", false),
    ("https://127.1/", "", false),
    ("https://127.0.0.1./", "", false),
    ("https://0.0.0.0/", "", false),
    ("https://0/", "", false),
    // Private, shared and metadata ranges.
    ("https://10.0.0.1/", "", false),
    ("https://172.16.0.1/", "", false),
    ("https://172.31.255.255/", "", false),
    ("https://192.168.1.1/", "", false),
    ("https://100.64.0.1/", "", false),
    ("https://100.127.255.255/", "", false),
    ("https://169.254.169.254/latest/meta-data/", "", false),
    (
        "https://metadata.google.internal/computeMetadata/v1/",
        "",
        false,
    ),
    ("https://metadata/", "", false),
    ("https://instance-data/", "", false),
    ("https://192.0.0.1/", "", false),
    ("https://192.0.2.1/", "", false),
    ("https://198.18.0.1/", "", false),
    ("https://198.19.255.255/", "", false),
    ("https://198.51.100.7/", "", false),
    ("https://203.0.113.9/", "", false),
    ("https://224.0.0.1/", "", false),
    ("https://239.255.255.250/", "", false),
    ("https://240.0.0.1/", "", false),
    ("https://255.255.255.255/", "", false),
    // IPv6 ranges and IPv4 carried inside IPv6.
    ("https://[::ffff:127.0.0.1]/", "", false),
    ("https://[::ffff:7f00:1]/", "", false),
    ("https://[::ffff:169.254.169.254]/", "", false),
    ("https://[::ffff:0:a00:1]/", "", false),
    ("https://[::127.0.0.1]/", "", false),
    ("https://[64:ff9b::7f00:1]/", "", false),
    ("https://[64:ff9b::a9fe:a9fe]/", "", false),
    ("https://[64:ff9b:1::808:808]/", "", false),
    ("https://[2002:7f00:1::]/", "", false),
    ("https://[2002:c0a8:101::1]/", "", false),
    ("https://[fe80::1]/", "", false),
    ("https://[febf::1]/", "", false),
    ("https://[fec0::1]/", "", false),
    ("https://[fd00::1]/", "", false),
    ("https://[fc00::1]/", "", false),
    ("https://[ff02::1]/", "", false),
    ("https://[2001:db8::1]/", "", false),
    // Credentials in the authority.
    ("https://user:pass@api.github.com/", "", false),
    ("https://user@api.github.com", "", false),
    ("https://:pass@api.github.com/", "", false),
    ("http://user:pass@127.0.0.1:9911/", DEV, false),
    // Other schemes.
    ("ftp://x", "", false),
    ("ftp://ftp.example.com/", "", false),
    ("file:///etc/passwd", "", false),
    ("gopher://example.com:70/_GET", "", false),
    ("javascript:alert(1)", "", false),
    ("data:text/plain,hi", "", false),
    ("ws://example.com/", "", false),
    // Privileged ports.
    ("https://api.github.com:22/", "", false),
    ("https://api.github.com:25/", "", false),
    ("https://api.github.com:1023/", "", false),
    ("https://api.github.com:1024/", "", true),
    // Intranet names.
    ("https://intranet/", "", false),
    ("https://printer.local/", "", false),
    ("https://x.internal/", "", false),
    ("https://router.localdomain/", "", false),
    ("https://nas.home.arpa/", "", false),
    // Not absolute URLs at all.
    ("/user", "", false),
    ("api.github.com/user", "", false),
    ("", "", false),
    ("https://", "", false),
    ("https:///path", "", false), // read as https://path/: a single label
    ("https://exa mple.com/", "", false),
    ("not a url", "", false),
];

#[test]
fn the_table() {
    let mut failures = Vec::new();
    for (url, allow, expected) in CASES {
        let got = check(url, &AllowList::parse(allow));
        if got.is_ok() != *expected {
            failures.push(format!("{url} (allow {allow:?}): {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "unexpected verdicts:\n{}",
        failures.join("\n")
    );
    assert!(CASES.len() >= 50);
}

#[test]
fn refusals_name_the_host_and_never_the_url() {
    let allow = AllowList::default();
    for url in [
        "https://user:secret@api.github.com/",
        "https://127.0.0.1/?token=secret",
        "http://api.github.com/x?token=secret",
        "https://api.github.com:22/secret",
        "ftp://secret.example.com/",
        "not a url secret",
    ] {
        let Refused(message) = check(url, &allow).expect_err(url);
        assert!(!message.contains("secret"), "{url}: {message}");
        assert!(message.ends_with('.'), "{url}: {message}");
    }
    let Refused(message) = check("https://2130706433/", &allow).unwrap_err();
    assert_eq!(
        message,
        "The target host 127.0.0.1 is refused: loopback address."
    );
    let Refused(message) = check("https://[::ffff:169.254.169.254]/", &allow).unwrap_err();
    assert!(message.contains("169.254.169.254"), "{message}");
}

#[test]
fn an_accepted_url_comes_back_normalised() {
    let url = check("https://API.github.com./a/../user", &AllowList::default()).unwrap();
    assert_eq!(url.as_str(), "https://api.github.com./user");
    assert_eq!(url.port_or_known_default(), Some(443));
}

#[test]
fn allow_list_parsing() {
    let list = AllowList::parse(" 127.0.0.1:9911,127.0.0.1:9912  LOCALHOST:8080,[::1]:80 ,, ");
    assert!(list.contains("127.0.0.1", 9911));
    assert!(list.contains("127.0.0.1", 9912));
    assert!(!list.contains("127.0.0.1", 9913));
    assert!(list.contains("localhost", 8080));
    assert!(list.contains("LocalHost.", 8080));
    assert!(list.contains("[::1]", 80));
    assert!(list.contains("[0:0:0:0:0:0:0:1]", 80));
    assert!(!list.contains("::1", 80));
    assert!(
        list.contains("127.1", 9911),
        "numeric forms normalise like URLs"
    );
}

#[test]
fn allow_list_ignores_bad_entries() {
    for bad in [
        "",
        " , ,",
        "127.0.0.1",
        "127.0.0.1:",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.0.0.1:http",
        "::1:80",
        "[::1]",
        ":9911",
        "a/b:80",
        "a@b:80",
    ] {
        assert_eq!(AllowList::parse(bad), AllowList::default(), "{bad:?}");
    }
    let list = AllowList::parse("127.0.0.1, 127.0.0.1:9911");
    assert_eq!(list, AllowList::parse("127.0.0.1:9911"));
}

#[test]
fn allow_list_needs_the_host_as_written() {
    let allow = AllowList::parse("127.0.0.1:40000");
    assert!(check("http://127.0.0.1:40000/user", &allow).is_ok());
    assert!(check("http://127.0.0.1.:40000/user", &allow).is_ok());
    for disguised in [
        "http://2130706433:40000/user",
        "http://0x7f.1:40000/user",
        "http://127.1:40000/user",
        "http://017700000001:40000/",
        "http://127.0.0.2:40000/",
        "http://localhost:40000/",
        "http://[::1]:40000/",
        "http://[::ffff:127.0.0.1]:40000/",
        "http://0.0.0.0:40000/",
        "http://127.0.0.1:40001/",
    ] {
        assert!(check(disguised, &allow).is_err(), "{disguised}");
    }
}
