//! Synthetic organisation generator (filled in below).
