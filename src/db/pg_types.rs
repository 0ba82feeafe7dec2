//! PostgreSQL values ↔ JSON (being written).
