//! Ports (one trait per capability) and their in-memory and local-filesystem adapters
