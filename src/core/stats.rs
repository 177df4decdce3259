//! Stats (placeholder).
