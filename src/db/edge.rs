//! Database sockets at the edge (being written).
