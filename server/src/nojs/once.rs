//! One-time form tokens: reloading the no-JavaScript result page must never file the
//! report a second time.
//!
//! A browser that reloads the page a form `POST` answered sends the same form again,
//! and the server would file a second case with a second code. So every report form
//! carries a random token in a hidden field (no cookie, nothing in a URL). Nothing is
//! kept when a form is handed out. Once a report is filed, the server remembers the
//! SHA-256 of its token, in memory only, linked to nothing (no case, no time of its
//! own): a form that comes back with a remembered token is refused with "This report
//! was already sent" and no code. Tokens are kept in two generations that rotate every
//! [`GENERATION`] or when one is full, so a token is remembered for 12 to 24 hours and
//! at most [`MAX_REMEMBERED`] at a time.
//!
//! Known gaps: two sends of the same form that overlap (a double click) both file,
//! because refusing the second would show the reporter a page without the code of the
//! first; and a restart forgets every token.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore;
use sha2::{Digest, Sha256};

/// How long one generation of remembered tokens lasts.
pub const GENERATION: Duration = Duration::from_secs(12 * 60 * 60);
/// The most tokens remembered at once (about 6 MB at the most).
pub const MAX_REMEMBERED: usize = 100_000;

/// The name of the hidden field.
pub const FIELD: &str = "once";

/// A new token for a form: 32 random bytes in hex.
pub fn token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The tokens of forms that filed a report.
pub struct FiledForms {
    inner: Mutex<Generations>,
}

struct Generations {
    current: HashSet<[u8; 32]>,
    previous: HashSet<[u8; 32]>,
    started: Instant,
}

impl Default for FiledForms {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Generations {
                current: HashSet::new(),
                previous: HashSet::new(),
                started: Instant::now(),
            }),
        }
    }
}

fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl FiledForms {
    fn with<T>(&self, f: impl FnOnce(&mut Generations) -> T) -> T {
        // A panic while holding the lock cannot leave the sets inconsistent.
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.started.elapsed() >= GENERATION || inner.current.len() >= MAX_REMEMBERED / 2 {
            inner.previous = std::mem::take(&mut inner.current);
            inner.started = Instant::now();
        }
        f(&mut inner)
    }

    /// Whether a report was already filed with this form.
    pub fn filed(&self, token: &str) -> bool {
        let k = key(token);
        self.with(|g| g.current.contains(&k) || g.previous.contains(&k))
    }

    /// Remembers that a report was filed with this form.
    pub fn remember(&self, token: &str) {
        let k = key(token);
        self.with(|g| g.current.insert(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_refused_once_filed_and_others_are_not() {
        let forms = FiledForms::default();
        let (a, b) = (token(), token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(!forms.filed(&a));
        forms.remember(&a);
        assert!(forms.filed(&a));
        assert!(!forms.filed(&b));
    }

    #[test]
    fn memory_is_bounded_and_recent_tokens_survive_a_rotation() {
        let forms = FiledForms::default();
        let first = token();
        forms.remember(&first);
        for i in 0..MAX_REMEMBERED / 2 {
            forms.remember(&i.to_string());
        }
        // One rotation: the first token is in the previous generation, still refused.
        assert!(forms.filed(&first));
        for i in 0..MAX_REMEMBERED / 2 {
            forms.remember(&format!("second {i}"));
        }
        // Two rotations: forgotten, and never more than MAX_REMEMBERED are held.
        assert!(!forms.filed(&first));
        let held = forms.with(|g| g.current.len() + g.previous.len());
        assert!(held <= MAX_REMEMBERED, "{held}");
    }
}
