//! The plain `extern "C"` boundary the page's `metadata.js` calls.
//!
//! Why unsafe code is allowed here, and only here: a WebAssembly export can pass only
//! numbers, so byte buffers cross as (pointer, length) pairs into the module's own
//! memory, written by hand because wasm-bindgen's output cannot be translated by wasm2js
//! (the same reasoning and protocol as `meldpunt-client-wasm`'s `abi.rs`).
//!
//! Protocol: JS calls `mm_alloc(len)` for the file name and for the document, copies
//! them there, calls an operation with both (ptr, len) pairs — the operation takes
//! ownership, and wipes and frees both — and gets back 0 (ok) or 1 (error). The result
//! is read with `mm_out_ptr/mm_out_len` (bytes) and `mm_meta_ptr/mm_meta_len` (JSON), and
//! released with `mm_out_clear`, which wipes it.
#![allow(unsafe_code)]
// The exports take pointers from JavaScript, which cannot call `unsafe fn`; the contract
// above is what makes them sound.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::cell::RefCell;

use serde_json::Value;
use zeroize::Zeroize;

use crate::api::{self, Output};

thread_local! {
    static OUT: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

fn set_output(result: Result<Output, Value>) -> i32 {
    let (code, bytes, meta) = match result {
        Ok(o) => (0, o.bytes, o.meta),
        Err(e) => (1, Vec::new(), e),
    };
    let meta = serde_json::to_vec(&meta).unwrap_or_default();
    OUT.with(|out| {
        let mut out = out.borrow_mut();
        out.0.zeroize();
        out.1.zeroize();
        *out = (bytes, meta);
    });
    code
}

/// Takes back a buffer made by `mm_alloc`, as an owned vector.
///
/// # Safety
/// `ptr` and `len` must come from one `mm_alloc(len)` call, not yet taken back.
unsafe fn take_input(ptr: *mut u8, len: usize) -> Vec<u8> {
    if ptr.is_null() || len == 0 {
        return Vec::new();
    }
    // SAFETY: mm_alloc leaked a Box<[u8]> of exactly `len` bytes at `ptr`.
    unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) }.into_vec()
}

fn with_inputs<F>(name_ptr: *mut u8, name_len: usize, ptr: *mut u8, len: usize, f: F) -> i32
where
    F: FnOnce(&str, &[u8]) -> Result<Output, Value>,
{
    // SAFETY: the loader passes back exactly what mm_alloc returned (module contract).
    let mut name = unsafe { take_input(name_ptr, name_len) };
    // SAFETY: as above.
    let mut input = unsafe { take_input(ptr, len) };
    let result = f(&String::from_utf8_lossy(&name), &input);
    name.zeroize();
    input.zeroize();
    // The input's memory is free before the result is handed over.
    drop(input);
    set_output(result)
}

/// As [`with_inputs`], for an operation that takes the input over (and wipes it itself).
fn with_owned_input<F>(name_ptr: *mut u8, name_len: usize, ptr: *mut u8, len: usize, f: F) -> i32
where
    F: FnOnce(&str, Vec<u8>) -> Result<Output, Value>,
{
    // SAFETY: the loader passes back exactly what mm_alloc returned (module contract).
    let mut name = unsafe { take_input(name_ptr, name_len) };
    // SAFETY: as above.
    let input = unsafe { take_input(ptr, len) };
    let result = f(&String::from_utf8_lossy(&name), input);
    name.zeroize();
    set_output(result)
}

/// Allocates `len` bytes in the module's memory for an input buffer.
#[no_mangle]
pub extern "C" fn mm_alloc(len: usize) -> *mut u8 {
    if len == 0 {
        return std::ptr::null_mut();
    }
    Box::into_raw(vec![0u8; len].into_boxed_slice()).cast::<u8>()
}

/// Frees an input buffer that was allocated but never passed to an operation.
#[no_mangle]
pub extern "C" fn mm_free(ptr: *mut u8, len: usize) {
    // SAFETY: as for take_input.
    let mut v = unsafe { take_input(ptr, len) };
    v.zeroize();
}

/// Pointer to the last result's bytes.
#[no_mangle]
pub extern "C" fn mm_out_ptr() -> *const u8 {
    OUT.with(|o| o.borrow().0.as_ptr())
}

/// Length of the last result's bytes.
#[no_mangle]
pub extern "C" fn mm_out_len() -> usize {
    OUT.with(|o| o.borrow().0.len())
}

/// Pointer to the last result's JSON.
#[no_mangle]
pub extern "C" fn mm_meta_ptr() -> *const u8 {
    OUT.with(|o| o.borrow().1.as_ptr())
}

/// Length of the last result's JSON.
#[no_mangle]
pub extern "C" fn mm_meta_len() -> usize {
    OUT.with(|o| o.borrow().1.len())
}

/// Wipes and releases the last result.
#[no_mangle]
pub extern "C" fn mm_out_clear() {
    OUT.with(|o| {
        let mut o = o.borrow_mut();
        o.0.zeroize();
        o.1.zeroize();
        *o = (Vec::new(), Vec::new());
    });
}

/// The format of a document from its name and first bytes ([`api::detect`]).
#[no_mangle]
pub extern "C" fn mm_detect(name_ptr: *mut u8, name_len: usize, ptr: *mut u8, len: usize) -> i32 {
    with_inputs(name_ptr, name_len, ptr, len, |name, head| {
        Ok(api::detect(name, head))
    })
}

/// What a document holds ([`api::inspect_document`]).
#[no_mangle]
pub extern "C" fn mm_inspect(name_ptr: *mut u8, name_len: usize, ptr: *mut u8, len: usize) -> i32 {
    with_inputs(name_ptr, name_len, ptr, len, |name, bytes| {
        Ok(api::inspect_document(name, bytes))
    })
}

/// The document without what can be removed ([`api::clean_document`]).
#[no_mangle]
pub extern "C" fn mm_clean(name_ptr: *mut u8, name_len: usize, ptr: *mut u8, len: usize) -> i32 {
    with_owned_input(name_ptr, name_len, ptr, len, api::clean_document)
}
