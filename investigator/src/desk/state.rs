//! What the desk holds between requests: the key while unlocked (and when it was last
//! used), whose contact details were shown, what became of the documents, the language
//! and a one-time message for the next page. Locking drops the key, whose memory is
//! wiped as it drops, and everything learnt with it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use meldpunt_wire::CaseNumber;

use crate::attachments::AttachmentCheck;
use crate::keys::LoadedKeys;

use super::i18n::Lang;

/// The key and what was learnt with it.
pub struct Unlocked {
    /// The investigator's key.
    pub keys: LoadedKeys,
    /// When a request last came.
    pub last_used: Instant,
    /// Cases whose contact details are shown (each look recorded in the bundle).
    pub revealed: HashSet<CaseNumber>,
    /// What became of each case's documents when they were decrypted and checked.
    pub documents: HashMap<CaseNumber, Vec<AttachmentCheck>>,
}

/// A message for the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// Whether something went wrong.
    pub error: bool,
    /// The text.
    pub text: String,
}

/// The desk's state.
pub struct State {
    unlocked: Option<Unlocked>,
    idle: Duration,
    /// The language, once chosen (else the browser's).
    pub lang: Option<Lang>,
    /// A message for the next page.
    pub flash: Option<Flash>,
    /// Set when the investigator asked to quit.
    pub quit: bool,
}

/// Why the desk locked itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    /// It was locked all along.
    Already,
    /// It has just locked after the idle time.
    Idle,
}

impl State {
    /// A locked desk that locks itself after `idle` without requests.
    pub fn new(idle: Duration) -> State {
        State {
            unlocked: None,
            idle,
            lang: None,
            flash: None,
            quit: false,
        }
    }

    /// The idle time after which the desk locks.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// Unlocks with a loaded key.
    pub fn unlock(&mut self, keys: LoadedKeys, now: Instant) {
        self.unlocked = Some(Unlocked {
            keys,
            last_used: now,
            revealed: HashSet::new(),
            documents: HashMap::new(),
        });
    }

    /// Drops the key (wiped as it drops) and everything learnt with it.
    pub fn lock(&mut self) {
        self.unlocked = None;
    }

    /// Whether the desk is unlocked.
    pub fn is_unlocked(&self) -> bool {
        self.unlocked.is_some()
    }

    /// Locks the desk if it was idle too long; says whether it did.
    pub fn expire(&mut self, now: Instant) -> bool {
        let idle_too_long = self
            .unlocked
            .as_ref()
            .is_some_and(|u| now.saturating_duration_since(u.last_used) >= self.idle);
        if idle_too_long {
            self.lock();
        }
        idle_too_long
    }

    /// The unlocked key for a request at `now`, which counts as use; or why there is
    /// none.
    pub fn use_key(&mut self, now: Instant) -> Result<&mut Unlocked, Locked> {
        if self.expire(now) {
            return Err(Locked::Idle);
        }
        match self.unlocked.as_mut() {
            Some(u) => {
                u.last_used = now;
                Ok(u)
            }
            None => Err(Locked::Already),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meldpunt_crypto::InvestigatorKey;

    fn keys() -> LoadedKeys {
        LoadedKeys::from_keys(vec![InvestigatorKey::generate()], "key.txt".into())
    }

    #[test]
    fn the_key_is_dropped_on_lock_and_after_the_idle_time() {
        let start = Instant::now();
        let minute = Duration::from_secs(60);
        let mut state = State::new(15 * minute);
        assert!(matches!(state.use_key(start), Err(Locked::Already)));
        state.unlock(keys(), start);
        let case = CaseNumber::parse("MP-7KQ2M9XD4A").unwrap();
        state
            .use_key(start + 10 * minute)
            .unwrap()
            .revealed
            .insert(case.clone());
        // Used at minute 10, so still there at minute 24.
        assert!(!state.expire(start + 24 * minute));
        assert!(state
            .use_key(start + 24 * minute)
            .unwrap()
            .revealed
            .contains(&case));
        assert!(matches!(
            state.use_key(start + 39 * minute),
            Err(Locked::Idle)
        ));
        assert!(!state.is_unlocked());
        assert!(matches!(
            state.use_key(start + 40 * minute),
            Err(Locked::Already)
        ));
        // Unlocked again, nothing learnt before is left.
        state.unlock(keys(), start + 41 * minute);
        assert!(state
            .use_key(start + 41 * minute)
            .unwrap()
            .revealed
            .is_empty());
        state.lock();
        assert!(!state.is_unlocked());
    }
}
