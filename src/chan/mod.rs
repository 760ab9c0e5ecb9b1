//! Go channels (being built).
