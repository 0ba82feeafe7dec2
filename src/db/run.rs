//! What each database tool does over a session (being written).
