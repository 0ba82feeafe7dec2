//! The MySQL/MariaDB client protocol (being written).
