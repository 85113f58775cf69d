//! Admission: no single client can shut the drop box, while nothing identifying is kept.
//!
//! Behind an onion service every client is 127.0.0.1, so nothing can be limited per
//! person. Instead each purpose (a report, an answer, a new upload session, attachment
//! bytes) has a target rate from the configuration; while the last ten minutes stay
//! under it, requests are admitted freely. Above it, a request must carry a proof of work
//! (`meldpunt_crypto::admission`) whose difficulty rises one step with every doubling of
//! the rate, up to a ceiling that the slowest browser tier can still pay. A refused
//! request gets the puzzle in its answer (429 with `admission`), so a client solves and
//! retries without an extra round trip. Nothing refuses the purposes for good: a flood
//! costs its sender work, and a reporter at most the ceiling's seconds.
//!
//! The no-JavaScript tier cannot solve puzzles; it has a small hard budget of its own.
//!
//! Challenges are MAC'd by a random key (shared through storage by every instance),
//! expire after [`CHALLENGE_MINUTES`], are used once, and must be at least the current
//! difficulty less one step. Counters are per minute and live as long as they are used
//! (in memory for the embedded backend); they count requests, never who sent them.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use meldpunt_crypto::admission;
use meldpunt_wire::reporter::AdmissionChallenge;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;

use crate::service::ServiceError;
use crate::storage::{Store, StoreError};

/// How long a challenge may be used.
pub const CHALLENGE_MINUTES: u64 = 10;
/// Minutes over which the rate is measured.
const RATE_MINUTES: u64 = 10;
const VERSION: u8 = 1;
const RANDOM_LEN: usize = 16;
const TAG_LEN: usize = 16;
/// version, purpose, difficulty, expiry minute (u64 BE), random, tag.
const CHALLENGE_LEN: usize = 3 + 8 + RANDOM_LEN + TAG_LEN;

/// What a request is for; each has its own budget and difficulty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Filing a report.
    Report,
    /// A reporter's answer in the thread.
    Answer,
    /// Starting an upload session.
    Session,
    /// Attachment bytes (counted per MiB).
    Upload,
}

impl Purpose {
    /// The name in the API and in counters.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Report => "report",
            Purpose::Answer => "answer",
            Purpose::Session => "session",
            Purpose::Upload => "upload",
        }
    }

    fn byte(self) -> u8 {
        match self {
            Purpose::Report => 1,
            Purpose::Answer => 2,
            Purpose::Session => 3,
            Purpose::Upload => 4,
        }
    }
}

/// The targets and ceilings, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Reports, answers and new sessions per hour (each its own) before work is asked.
    pub per_hour: u64,
    /// Attachment MiB per hour before work is asked.
    pub upload_mib_per_hour: u64,
    /// The highest difficulty asked for reports and answers (reporters on the slowest
    /// tier pay 2^this evaluations on average).
    pub max_difficulty: u8,
    /// No-JavaScript submissions per hour (no work possible there: a hard budget).
    pub nojs_per_hour: u64,
}

impl Policy {
    fn target(&self, purpose: Purpose) -> u64 {
        match purpose {
            Purpose::Upload => self.upload_mib_per_hour,
            _ => self.per_hour,
        }
        .max(1)
    }

    fn ceiling(&self, purpose: Purpose) -> u8 {
        match purpose {
            // Reports and answers go ahead of new sessions and bytes.
            Purpose::Report | Purpose::Answer => self.max_difficulty,
            Purpose::Session | Purpose::Upload => self.max_difficulty.saturating_add(4),
        }
        .min(admission::MAX_DIFFICULTY)
    }
}

fn minute() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / 60)
        .unwrap_or(0)
}

fn counter(purpose: Purpose) -> String {
    format!("admitted:{}", purpose.as_str())
}

/// The difficulty for `rate` requests over ten minutes against a `target` per hour: 0 up
/// to the target, then one step per doubling, at most `ceiling`.
pub fn difficulty_for(rate: u64, target_per_hour: u64, ceiling: u8) -> u8 {
    let allowed = (target_per_hour.saturating_mul(RATE_MINUTES) / 60).max(1);
    if rate <= allowed {
        return 0;
    }
    // ceil(log2(rate / allowed))
    let mut k = 0u8;
    let mut level = allowed;
    while level < rate && k < ceiling {
        level = level.saturating_mul(2);
        k += 1;
    }
    k
}

/// The admission gate.
pub struct Gate {
    policy: Policy,
}

/// What the gate decided.
pub enum Decision {
    /// Go ahead (counted).
    Admitted,
    /// Work is needed first: solve this and ask again.
    Solve(AdmissionChallenge, &'static str),
}

impl Gate {
    /// A gate with this policy.
    pub fn new(policy: Policy) -> Self {
        Self { policy }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The difficulty asked for `purpose` now.
    pub async fn difficulty(&self, store: &dyn Store, purpose: Purpose) -> Result<u8, StoreError> {
        let now = minute();
        let rate = store
            .counted(&counter(purpose), now.saturating_sub(RATE_MINUTES - 1), now)
            .await?;
        Ok(difficulty_for(
            rate,
            self.policy.target(purpose),
            self.policy.ceiling(purpose),
        ))
    }

    /// Counts `units` of `purpose` as admitted now (a request, or MiB for uploads).
    pub async fn count(
        &self,
        store: &dyn Store,
        purpose: Purpose,
        units: u64,
    ) -> Result<(), StoreError> {
        store.count(&counter(purpose), minute(), units).await?;
        Ok(())
    }

    /// A fresh challenge at difficulty `k`.
    pub async fn challenge(
        &self,
        store: &dyn Store,
        purpose: Purpose,
        k: u8,
    ) -> Result<AdmissionChallenge, StoreError> {
        let key = store.shared_secret("admission").await?;
        let mut c = Vec::with_capacity(CHALLENGE_LEN);
        c.push(VERSION);
        c.push(purpose.byte());
        c.push(k);
        c.extend_from_slice(&(minute() + CHALLENGE_MINUTES).to_be_bytes());
        let mut random = [0u8; RANDOM_LEN];
        OsRng.fill_bytes(&mut random);
        c.extend_from_slice(&random);
        let tag = tag(&key, &c);
        c.extend_from_slice(&tag);
        Ok(AdmissionChallenge {
            purpose: purpose.as_str().to_owned(),
            challenge: B64.encode(&c),
            difficulty: k,
        })
    }

    /// Decides on a request for `purpose` that carries `presented` (the
    /// `Meldpunt-Admission` header, `<challenge>.<nonce>`), and counts it if admitted.
    /// Uploads are counted by the caller, in MiB, once the bytes arrived.
    pub async fn admit(
        &self,
        store: &dyn Store,
        purpose: Purpose,
        presented: Option<&str>,
    ) -> Result<Decision, StoreError> {
        let k = self.difficulty(store, purpose).await?;
        let verdict = match presented {
            None if k == 0 => Ok(()),
            None => Err("the drop box is busy: solve the puzzle and send again"),
            Some(p) => self.check(store, purpose, k, p).await?,
        };
        match verdict {
            Ok(()) => {
                if purpose != Purpose::Upload {
                    self.count(store, purpose, 1).await?;
                }
                Ok(Decision::Admitted)
            }
            Err(why) => Ok(Decision::Solve(
                self.challenge(store, purpose, k).await?,
                why,
            )),
        }
    }

    async fn check(
        &self,
        store: &dyn Store,
        purpose: Purpose,
        k_now: u8,
        presented: &str,
    ) -> Result<Result<(), &'static str>, StoreError> {
        let Some((challenge, nonce)) = presented.trim().split_once('.') else {
            return Ok(Err("the admission header is not <challenge>.<nonce>"));
        };
        let (Ok(c), Ok(nonce)) = (B64.decode(challenge), u64::from_str_radix(nonce, 16)) else {
            return Ok(Err("the admission header is not <challenge>.<nonce>"));
        };
        if c.len() != CHALLENGE_LEN || c[0] != VERSION {
            return Ok(Err("not a challenge of this drop box"));
        }
        let key = store.shared_secret("admission").await?;
        let (body, presented_tag) = c.split_at(CHALLENGE_LEN - TAG_LEN);
        // Compared in constant time.
        let Some(mac) = mac_of(&key, body) else {
            return Ok(Err("not a challenge of this drop box"));
        };
        if mac.verify_truncated_left(presented_tag).is_err() {
            return Ok(Err("not a challenge of this drop box"));
        }
        if body[1] != purpose.byte() {
            return Ok(Err("this challenge is for another kind of request"));
        }
        let k = body[2];
        let mut expires = [0u8; 8];
        expires.copy_from_slice(&body[3..11]);
        if u64::from_be_bytes(expires) < minute() {
            return Ok(Err("the challenge expired: solve a new one"));
        }
        if k.saturating_add(1) < k_now {
            return Ok(Err("the drop box got busier: solve a new challenge"));
        }
        if !admission::verify(&c, nonce, k) {
            return Ok(Err("the puzzle is not solved"));
        }
        if !store
            .use_once(&body[11..11 + RANDOM_LEN], minute() + CHALLENGE_MINUTES)
            .await?
        {
            return Ok(Err("this challenge was used already"));
        }
        Ok(Ok(()))
    }

    /// Counts one no-JavaScript submission, or refuses when this hour's budget is spent.
    pub async fn nojs(&self, store: &dyn Store) -> Result<(), ServiceError> {
        let hour = minute() / 60;
        let n = store.count("nojs", hour, 1).await?;
        if n > self.policy.nojs_per_hour.max(1) {
            return Err(ServiceError::Busy);
        }
        Ok(())
    }
}

fn mac_of(key: &[u8; 32], body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    mac.update(b"meldpunt v1 admission challenge\0");
    mac.update(body);
    Some(mac)
}

fn tag(key: &[u8; 32], body: &[u8]) -> [u8; TAG_LEN] {
    let mut out = [0u8; TAG_LEN];
    if let Some(mac) = mac_of(key, body) {
        out.copy_from_slice(&mac.finalize().into_bytes()[..TAG_LEN]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difficulty_rises_one_step_per_doubling_up_to_the_ceiling() {
        // 120 per hour = 20 per ten minutes.
        assert_eq!(difficulty_for(0, 120, 6), 0);
        assert_eq!(difficulty_for(20, 120, 6), 0);
        assert_eq!(difficulty_for(21, 120, 6), 1);
        assert_eq!(difficulty_for(40, 120, 6), 1);
        assert_eq!(difficulty_for(41, 120, 6), 2);
        assert_eq!(difficulty_for(1_000_000, 120, 6), 6);
        assert_eq!(difficulty_for(u64::MAX, 1, 6), 6);
    }
}
