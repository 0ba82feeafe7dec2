//! What both database servers hold once started: the `shop` database, its
//! `products` table with [`PRODUCTS`], and the logins of [`super::DbServer`].
//! The same rows in both dialects, so a scenario can assert on either.

/// One seeded row of `shop.products`.
#[derive(Debug, Clone, Copy)]
pub struct Product {
    pub id: i32,
    pub name: &'static str,
    /// `numeric(10,2)` / `DECIMAL(10,2)`, as the servers print it.
    pub price: &'static str,
    /// PostgreSQL `text[]`; MariaDB a JSON array (`LONGTEXT`, json_valid).
    pub tags: Option<&'static [&'static str]>,
    pub in_stock: bool,
    /// UTC: PostgreSQL `timestamptz`, MariaDB `DATETIME`.
    pub created_at: &'static str,
    /// PostgreSQL `jsonb`; MariaDB `JSON` (`LONGTEXT`, json_valid).
    pub data: Option<&'static str>,
}

const fn p(
    id: i32,
    name: &'static str,
    price: &'static str,
    tags: Option<&'static [&'static str]>,
    in_stock: bool,
    created_at: &'static str,
    data: Option<&'static str>,
) -> Product {
    Product {
        id,
        name,
        price,
        tags,
        in_stock,
        created_at,
        data,
    }
}

/// The rows of `shop.products` on both servers, in `id` order. Some carry
/// NULLs, one a name outside ASCII and one a quote.
#[rustfmt::skip]
pub const PRODUCTS: &[Product] = &[
    p(1, "Widget", "9.99", Some(&["tools", "small"]), true, "2024-01-02 03:04:05", Some(r#"{"color": "red", "weight": 120}"#)),
    p(2, "Gadget", "24.50", Some(&["tools"]), true, "2024-01-15 10:00:00", Some(r#"{"color": "blue"}"#)),
    p(3, "Doohickey", "3.75", Some(&[]), false, "2024-02-01 08:30:00", None),
    p(4, "Café crème ☕", "4.20", Some(&["food", "drink"]), true, "2024-02-14 12:00:00", Some(r#"{"hot": true}"#)),
    p(5, "Sprocket", "0.99", None, true, "2024-03-03 03:03:03", Some(r#"{"teeth": 32}"#)),
    p(6, "O'Brien's Mallet", "18.00", Some(&["tools", "heavy"]), true, "2024-03-17 17:17:17", Some(r#"{"weight": 2500}"#)),
    p(7, "Flux Capacitor", "1210.00", Some(&["electronics"]), false, "2024-04-01 00:00:00", Some(r#"{"gigawatts": 1.21}"#)),
    p(8, "Thingamajig", "12.34", Some(&["misc"]), true, "2024-05-05 05:05:05", None),
    p(9, "Whatsit", "56.78", Some(&["misc", "small"]), true, "2024-06-06 06:06:06", Some(r#"{"tags": ["a", "b"]}"#)),
    p(10, "Gizmo", "99.00", Some(&["electronics", "tools"]), true, "2024-07-07 07:07:07", Some(r#"{"color": "black", "ports": [1, 2]}"#)),
    p(11, "Contraption", "150.00", None, false, "2024-08-08 08:08:08", Some(r#"{}"#)),
    p(12, "Apparatus", "75.25", Some(&["lab"]), true, "2024-09-09 09:09:09", Some(r#"{"nested": {"deep": true}}"#)),
    p(13, "Knick-knack", "2.00", Some(&["misc"]), true, "2024-10-10 10:10:10", None),
    p(14, "Bauble", "0.50", Some(&["misc", "small"]), true, "2024-11-11 11:11:11", Some(r#"{"shiny": true}"#)),
];

/// A SQL string literal (both dialects: quotes doubled; MariaDB runs with
/// NO_BACKSLASH_ESCAPES, below).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn opt(v: Option<String>) -> String {
    v.unwrap_or_else(|| "NULL".into())
}

/// Roles, the database and its seed, run by the superuser on `postgres`
/// (first) and on `shop` (second).
pub fn postgres(app: &str, reader: &str, md5: &str) -> (String, String) {
    let roles = format!(
        "CREATE ROLE app LOGIN PASSWORD {app};\n\
         CREATE ROLE reader LOGIN PASSWORD {reader};\n\
         SET password_encryption = 'md5';\n\
         CREATE ROLE md5user LOGIN PASSWORD {md5};\n\
         RESET password_encryption;\n\
         CREATE DATABASE shop OWNER app;\n",
        app = lit(app),
        reader = lit(reader),
        md5 = lit(md5),
    );
    let mut shop = String::from(
        "SET ROLE app;\n\
         CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL, \
         tags text[], in_stock boolean NOT NULL, created_at timestamptz NOT NULL, data jsonb);\n",
    );
    for r in PRODUCTS {
        let tags = r.tags.map(|t| {
            let items: Vec<String> = t.iter().map(|s| lit(s)).collect();
            format!("ARRAY[{}]::text[]", items.join(","))
        });
        shop += &format!(
            "INSERT INTO products VALUES ({}, {}, {}, {}, {}, {}, {});\n",
            r.id,
            lit(r.name),
            r.price,
            opt(tags),
            r.in_stock,
            lit(&format!("{}+00", r.created_at)),
            opt(r.data.map(lit)),
        );
    }
    shop += "RESET ROLE;\n\
             GRANT USAGE ON SCHEMA public TO reader, md5user;\n\
             GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader, md5user;\n\
             ALTER DEFAULT PRIVILEGES FOR ROLE app IN SCHEMA public GRANT SELECT ON TABLES TO reader, md5user;\n";
    (roles, shop)
}

/// Users, the database and its seed, run by root over the socket.
pub fn mariadb(app: &str, reader: &str, admin: &str) -> String {
    let mut sql =
        String::from("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES');\n");
    sql += "CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n";
    for (user, pw, grant) in [
        ("app", app, "ALL PRIVILEGES ON shop.*"),
        ("reader", reader, "SELECT ON shop.*"),
        ("admin", admin, "ALL PRIVILEGES ON *.*"),
    ] {
        for host in ["127.0.0.1", "%"] {
            sql += &format!(
                "CREATE USER '{user}'@'{host}' IDENTIFIED VIA mysql_native_password USING PASSWORD({});\n\
                 GRANT {grant} TO '{user}'@'{host}'{};\n",
                lit(pw),
                if user == "admin" { " WITH GRANT OPTION" } else { "" },
            );
        }
    }
    sql += "USE shop;\n\
            CREATE TABLE products (id INT PRIMARY KEY, name VARCHAR(200) NOT NULL, price DECIMAL(10,2) NOT NULL, \
            tags JSON, in_stock BOOLEAN NOT NULL, created_at DATETIME NOT NULL, data JSON);\n";
    for r in PRODUCTS {
        let tags = r.tags.map(|t| {
            let items: Vec<String> = t.iter().map(|s| format!("\"{s}\"")).collect();
            lit(&format!("[{}]", items.join(", ")))
        });
        sql += &format!(
            "INSERT INTO products VALUES ({}, {}, {}, {}, {}, {}, {});\n",
            r.id,
            lit(r.name),
            r.price,
            opt(tags),
            r.in_stock,
            lit(r.created_at),
            opt(r.data.map(lit)),
        );
    }
    sql
}
