//! A panic is a bug, but one envelope's bug must not cost the others their delivery: where a
//! dispatcher catches one (around each delivery, and around the whole batch), the envelope that
//! caused it is dead-lettered with this reason and the rest go on (issue 17). Needs the release
//! profile's `panic = "unwind"`.

use std::any::Any;

/// The dead-letter reason for a message whose handling panicked.
pub(crate) fn reason(panic: &(dyn Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    let text: String = text.chars().take(300).collect();
    format!("costwatch panicked on this message (a bug: please report it with this reason): {text}")
}
