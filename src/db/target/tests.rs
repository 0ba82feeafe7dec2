use super::*;

#[test]
fn reads_a_postgres_uri() {
    let t = parse(
        Dialect::Postgres,
        "postgresql://app%40x:p%20w@db.example.com:6543/shop?sslmode=verify-full",
    )
    .unwrap();
    assert_eq!(t.host, "db.example.com");
    assert_eq!(t.port, 6543);
    assert_eq!(t.user, "app@x");
    assert_eq!(t.password, "p w");
    assert_eq!(t.database.as_deref(), Some("shop"));
    assert!(t.tls);
}

#[test]
fn reads_libpq_keyword_value() {
    let t = parse(
        Dialect::Postgres,
        r"host=db.example.com port = 5433 dbname=app user=bot password='it\'s s3cr et' sslmode=disable application_name=x",
    )
    .unwrap();
    assert_eq!((t.host.as_str(), t.port), ("db.example.com", 5433));
    assert_eq!(t.password, "it's s3cr et");
    assert_eq!(t.database.as_deref(), Some("app"));
    assert!(!t.tls);
}

#[test]
fn reads_a_mysql_uri_with_defaults() {
    let t = parse(Dialect::Mysql, "mysql://root@[::1]/").unwrap();
    assert_eq!((t.host.as_str(), t.port, t.tls), ("::1", 3306, true));
    assert_eq!(t.database, None);
    let off = parse(Dialect::Mysql, "mysql://u:p@h/db?ssl-mode=DISABLED").unwrap();
    assert!(!off.tls);
}

#[test]
fn refuses_what_cannot_be_reached_and_never_quotes_the_string() {
    for (d, s) in [
        (Dialect::Postgres, "host=/var/run/postgresql user=x"),
        (Dialect::Postgres, "postgresql://u:hunter22@a,b/db"),
        (Dialect::Postgres, "postgresql://:hunter22@h/db"),
        (Dialect::Postgres, "host=h user=u password='hunter22"),
        (
            Dialect::Postgres,
            "postgresql://u:hunter22@h/db?sslmode=sometimes",
        ),
        (Dialect::Postgres, "postgresql://u:hunter22@h:0/db"),
        (Dialect::Mysql, "host=h user=u password=hunter22"),
        (
            Dialect::Postgres,
            "host=h user=u password=hunter22 service=x",
        ),
    ] {
        let e = parse(d, s).unwrap_err();
        assert!(!e.0.contains("hunter22"), "{s}: {e}");
    }
}

#[test]
fn plain_tcp_only_to_listed_pairs_and_tls_only_to_public_hosts() {
    let allow = AllowList::parse("127.0.0.1:5432");
    let t = |s: &str| parse(Dialect::Postgres, s).unwrap();
    assert!(check(
        &t("postgresql://u@127.0.0.1:5432/d?sslmode=disable"),
        &allow
    )
    .is_ok());
    assert!(check(&t("postgresql://u@127.0.0.1:5432/d"), &allow).is_ok());
    assert!(check(&t("postgresql://u@127.0.0.1:5433/d"), &allow).is_err());
    assert!(check(&t("postgresql://u@10.0.0.5/d"), &allow).is_err());
    assert!(check(&t("postgresql://u@169.254.169.254/d"), &allow).is_err());
    assert!(check(&t("host=2130706433 user=u"), &allow).is_err());
    assert!(check(&t("postgresql://u@db.example.com/d"), &allow).is_ok());
    let plain = check(
        &t("postgresql://u@db.example.com/d?sslmode=disable"),
        &allow,
    )
    .unwrap_err();
    assert!(plain.0.contains("TLS"), "{plain}");
}
