//! The plain `extern "C"` boundary the page's JavaScript loader calls.
//!
//! Why unsafe code is allowed here, and only here: a WebAssembly export can pass only
//! numbers, so byte buffers cross as (pointer, length) pairs into the module's own
//! memory. wasm-bindgen would hide this, but its output cannot be translated by wasm2js
//! for Tor Browser "Safer" (docs/ARCHITECTURE.md, "Build facts"), so the boundary is written by hand.
//!
//! Protocol: JS calls `mp_alloc(len)`, copies its input there, calls an operation with
//! (ptr, len) — the operation takes ownership and zeroizes and frees the input — and
//! gets back 0 (ok) or 1 (error). The result is then read with
//! `mp_out_ptr/mp_out_len` (bytes) and `mp_meta_ptr/mp_meta_len` (JSON), and released
//! with `mp_out_clear`, which zeroizes the JSON. The bytes are always ciphertext
//! ([`Output`]), so they are freed without being overwritten: zeroizing a megabyte of
//! ciphertext per slice cost a tenth of an attachment's encryption time (docs/BENCHMARKS.md).
#![allow(unsafe_code)]

use std::cell::RefCell;

use zeroize::Zeroize;

use crate::api::{ApiError, Output, State};

thread_local! {
    static STATE: RefCell<State> = RefCell::new(State::default());
    static OUT: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

fn set_output(result: Result<Output, ApiError>) -> i32 {
    let (code, bytes, meta) = match result {
        Ok(o) => (0, o.bytes, o.meta),
        Err(e) => (1, Vec::new(), e.to_json()),
    };
    let meta = serde_json::to_vec(&meta).unwrap_or_default();
    OUT.with(|out| {
        let mut out = out.borrow_mut();
        out.1.zeroize();
        *out = (bytes, meta);
    });
    code
}

/// Takes back a buffer made by `mp_alloc`, as an owned vector.
///
/// # Safety
/// `ptr` and `len` must come from one `mp_alloc(len)` call, not yet taken back.
unsafe fn take_input(ptr: *mut u8, len: usize) -> Vec<u8> {
    if ptr.is_null() || len == 0 {
        return Vec::new();
    }
    // SAFETY: mp_alloc leaked a Box<[u8]> of exactly `len` bytes at `ptr`.
    unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) }.into_vec()
}

fn with_input<F>(ptr: *mut u8, len: usize, f: F) -> i32
where
    F: FnOnce(&mut State, &[u8]) -> Result<Output, ApiError>,
{
    // SAFETY: the loader passes back exactly what mp_alloc returned (module contract).
    let mut input = unsafe { take_input(ptr, len) };
    let result = STATE.with(|s| f(&mut s.borrow_mut(), &input));
    // One pass over the bytes: the vector's length is its capacity (take_input), so the
    // `Vec` impl's second pass over the spare capacity would only zero them again.
    input.as_mut_slice().zeroize();
    set_output(result)
}

/// Allocates `len` bytes in the module's memory for an input buffer.
#[no_mangle]
pub extern "C" fn mp_alloc(len: usize) -> *mut u8 {
    if len == 0 {
        return std::ptr::null_mut();
    }
    Box::into_raw(vec![0u8; len].into_boxed_slice()).cast::<u8>()
}

/// Frees an input buffer that was allocated but never passed to an operation.
#[no_mangle]
pub extern "C" fn mp_free(ptr: *mut u8, len: usize) {
    // SAFETY: as for take_input.
    let mut v = unsafe { take_input(ptr, len) };
    v.zeroize();
}

/// Pointer to the last result's bytes.
#[no_mangle]
pub extern "C" fn mp_out_ptr() -> *const u8 {
    OUT.with(|o| o.borrow().0.as_ptr())
}

/// Length of the last result's bytes.
#[no_mangle]
pub extern "C" fn mp_out_len() -> usize {
    OUT.with(|o| o.borrow().0.len())
}

/// Pointer to the last result's JSON.
#[no_mangle]
pub extern "C" fn mp_meta_ptr() -> *const u8 {
    OUT.with(|o| o.borrow().1.as_ptr())
}

/// Length of the last result's JSON.
#[no_mangle]
pub extern "C" fn mp_meta_len() -> usize {
    OUT.with(|o| o.borrow().1.len())
}

/// Zeroizes and releases the last result.
#[no_mangle]
pub extern "C" fn mp_out_clear() {
    OUT.with(|o| {
        let mut o = o.borrow_mut();
        o.1.zeroize();
        *o = (Vec::new(), Vec::new());
    });
}

/// A new return code and its session: meta `{"session","code","mailbox"}`.
#[no_mangle]
pub extern "C" fn mp_code_generate() -> i32 {
    set_output(Ok(STATE.with(|s| s.borrow_mut().code_generate())))
}

/// Opens a session from a typed code: meta `{"session","mailbox"}` or a typo error.
#[no_mangle]
pub extern "C" fn mp_session_open(ptr: *mut u8, len: usize) -> i32 {
    with_input(ptr, len, |s, input| s.session_open(input))
}

/// Compares a code typed back from paper with the session's: meta `{"groups": [...]}`.
#[no_mangle]
pub extern "C" fn mp_code_compare(session: u32, ptr: *mut u8, len: usize) -> i32 {
    with_input(ptr, len, |s, input| s.code_compare(session, input))
}

/// Closes a session and zeroizes its keys.
#[no_mangle]
pub extern "C" fn mp_session_close(session: u32) {
    STATE.with(|s| s.borrow_mut().session_close(session));
}

/// Seals the report (bytes) and the note to self (meta).
#[no_mangle]
pub extern "C" fn mp_report_seal(session: u32, ptr: *mut u8, len: usize) -> i32 {
    with_input(ptr, len, |s, input| s.report_seal(session, input))
}

/// The fingerprint of a recipient set: meta `{"fingerprint"}`.
#[no_mangle]
pub extern "C" fn mp_fingerprint(ptr: *mut u8, len: usize) -> i32 {
    with_input(ptr, len, |s, input| s.fingerprint(input))
}

/// Starts an attachment: meta `{"attachment": handle}`.
#[no_mangle]
pub extern "C" fn mp_attachment_begin(ptr: *mut u8, len: usize) -> i32 {
    with_input(ptr, len, |s, input| s.attachment_begin(input))
}

/// Encrypts the next slice of an attachment: bytes are ciphertext.
#[no_mangle]
pub extern "C" fn mp_attachment_push(attachment: u32, ptr: *mut u8, len: usize) -> i32 {
    with_input(ptr, len, |s, input| s.attachment_push(attachment, input))
}

/// Writes the next part of an attachment's padding: bytes, and meta `{"done"}`.
#[no_mangle]
pub extern "C" fn mp_attachment_pad(attachment: u32) -> i32 {
    set_output(STATE.with(|s| s.borrow_mut().attachment_pad(attachment)))
}

/// Finishes an attachment: last bytes, and meta with its hash and size.
#[no_mangle]
pub extern "C" fn mp_attachment_finish(attachment: u32) -> i32 {
    set_output(STATE.with(|s| s.borrow_mut().attachment_finish(attachment)))
}

/// Starts hashing an attachment's ciphertext beside its encryption: meta `{"hash"}`.
#[no_mangle]
pub extern "C" fn mp_hash_begin() -> i32 {
    set_output(Ok(STATE.with(|s| s.borrow_mut().hash_begin())))
}

/// Hashes the next ciphertext bytes. The input is ciphertext, so it is freed without
/// being zeroized.
#[no_mangle]
pub extern "C" fn mp_hash_push(hash: u32, ptr: *mut u8, len: usize) -> i32 {
    // SAFETY: as in with_input.
    let input = unsafe { take_input(ptr, len) };
    set_output(STATE.with(|s| s.borrow_mut().hash_push(hash, &input)))
}

/// Finishes a hash: meta `{"ciphertext_sha256", "ciphertext_size"}`.
#[no_mangle]
pub extern "C" fn mp_hash_finish(hash: u32) -> i32 {
    set_output(STATE.with(|s| s.borrow_mut().hash_finish(hash)))
}

/// Decrypts and verifies the thread: meta lists each message, verified or not.
#[no_mangle]
pub extern "C" fn mp_thread_read(session: u32, ptr: *mut u8, len: usize) -> i32 {
    with_input(ptr, len, |s, input| s.thread_read(session, input))
}

/// Seals a reply after `mp_thread_read`: bytes, and meta `{"extends"}`.
#[no_mangle]
pub extern "C" fn mp_reply_seal(session: u32, ptr: *mut u8, len: usize) -> i32 {
    with_input(ptr, len, |s, input| s.reply_seal(session, input))
}

/// The note to self with the answer (the input bytes) recorded in it; bytes: the note.
/// The day is today's, as `YYYY-MM-DD` in the first 10 bytes of the input, then the
/// answer's age file.
#[no_mangle]
pub extern "C" fn mp_note_after(session: u32, ptr: *mut u8, len: usize) -> i32 {
    with_input(ptr, len, |s, input| {
        let (date, answer) = input.split_at(input.len().min(10));
        let date = std::str::from_utf8(date).unwrap_or_default();
        s.note_after(session, answer, date)
    })
}

/// Tries to solve an admission puzzle: meta `{"nonce": hex | null}`.
#[no_mangle]
pub extern "C" fn mp_admission_solve(ptr: *mut u8, len: usize) -> i32 {
    with_input(ptr, len, |s, input| s.admission_solve(input))
}

/// The only randomness source in the browser: `crypto.getRandomValues`, imported from
/// the loader as `env.host_random(ptr, len)`.
#[cfg(target_arch = "wasm32")]
mod random {
    #[link(wasm_import_module = "env")]
    extern "C" {
        fn host_random(ptr: *mut u8, len: usize);
    }

    fn fill(buf: &mut [u8]) -> Result<(), getrandom::Error> {
        // SAFETY: the loader writes exactly `len` bytes at `ptr` from crypto.getRandomValues.
        unsafe { host_random(buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    getrandom::register_custom_getrandom!(fill);
}
