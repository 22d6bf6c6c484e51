//! Python SDK compatibility (phase 2; not yet written).
