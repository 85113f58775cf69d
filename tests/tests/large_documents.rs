//! Large documents in the browser: a 200 MiB file is encrypted and uploaded in slices
//! while the renderer's memory and the module's memory stay bounded (the test prints the
//! peaks), and an upload whose connection drops in the middle of a chunk resumes without
//! sending much more than the file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failing test

use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use meldpunt_tests::browser::{self, Browser};
use meldpunt_tests::{Investigator, Site};
use sha2::{Digest, Sha256};

const MIB: u64 = 1024 * 1024;

/// A file of `size` bytes that is not all one byte (a counter in every 8 bytes).
fn make_file(path: &std::path::Path, size: u64) -> [u8; 32] {
    let mut f = fs::File::create(path).unwrap();
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; MIB as usize];
    let mut written = 0u64;
    while written < size {
        for (i, chunk) in block.chunks_mut(8).enumerate() {
            chunk.copy_from_slice(&(written / 8 + i as u64).to_le_bytes());
        }
        let n = (size - written).min(MIB) as usize;
        f.write_all(&block[..n]).unwrap();
        hasher.update(&block[..n]);
        written += n as u64;
    }
    hasher.finalize().into()
}

/// Fills the report form that is already open, attaches `file` and sends.
async fn fill_and_send(b: &Browser, file: &std::path::Path) -> String {
    let code = b.return_code_shown().await;
    b.type_into("description", "Large document marker.").await;
    b.type_into("files", file.to_str().unwrap()).await;
    b.type_into("retype", &code).await;
    b.wait_until("!document.getElementById('send').disabled", 5)
        .await;
    b.click("#send").await;
    code
}

/// The bureau pulls and opens the case; returns the SHA-256 of the saved document.
fn bureau_opens(site: &Site, token: &str, case: &str, name: &str) -> [u8; 32] {
    let inv = Investigator::new(site, token);
    inv.pull();
    let mut f = fs::File::open(inv.open(case).join("attachments").join(name)).unwrap();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; MIB as usize];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    hasher.finalize().into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_mib_document_keeps_the_browser_memory_bounded() {
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let _server = site.start();
    let b = browser::start(&[]).await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("archive.bin");
    let size = 200 * MIB;
    let hash = make_file(&file, size);

    b.client.goto(&site.url("/en/report")).await.unwrap();
    b.wait_until("!document.getElementById('code-section').hidden", 60)
        .await;
    let before = b.renderer_rss();
    fill_and_send(&b, &file).await;
    let baseline = before.max(b.renderer_rss());
    let (mut peak_rss, mut peak_module) = (0u64, 0u64);
    let deadline = Instant::now() + Duration::from_secs(900);
    let mut peak_kinds = [0u64; 4];
    loop {
        let kinds = b.renderer_memory();
        for (p, k) in peak_kinds.iter_mut().zip(kinds) {
            *p = (*p).max(k);
        }
        peak_rss = peak_rss.max(b.renderer_rss());
        let module = b
            .eval("Number(document.getElementById('progress').dataset.moduleMemory || 0)")
            .await;
        peak_module = peak_module.max(module.as_u64().unwrap_or(0));
        if b.eval("!document.getElementById('receipt').hidden").await == true {
            break;
        }
        if b.eval("!document.getElementById('report-error').hidden")
            .await
            == true
        {
            panic!("the upload failed: {}", b.text("report-error").await);
        }
        assert!(
            Instant::now() < deadline,
            "the 200 MiB upload did not finish in time"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let case = b.text("receipt-case").await;
    eprintln!(
        "renderer peak by kind (MiB): resident {}, anonymous {}, file-backed {}, shared {}",
        peak_kinds[0] / MIB,
        peak_kinds[1] / MIB,
        peak_kinds[2] / MIB,
        peak_kinds[3] / MIB
    );
    eprintln!(
        "200 MiB document: renderer RSS before {} MiB, peak {} MiB; WebAssembly memory peak {} MiB",
        baseline / MIB,
        peak_rss / MIB,
        peak_module / MIB
    );
    // Whole-file buffers would need at least the file twice (plaintext and ciphertext);
    // bounded memory grows by less than the file once (measured: about 120 MiB for
    // 200 MiB and for 400 MiB alike).
    assert!(peak_module > 0, "the page reported its module memory");
    assert!(
        peak_module < 64 * MIB,
        "WebAssembly memory grew to {} MiB",
        peak_module / MIB
    );
    assert!(
        peak_rss < baseline + size,
        "the renderer grew from {} to {} MiB for a {} MiB file",
        baseline / MIB,
        peak_rss / MIB,
        size / MIB
    );
    assert_eq!(bureau_opens(&site, &token, &case, "archive.bin"), hash);
}

/// A TCP proxy that counts what the browser sends and cuts one connection once, when
/// that count crosses `cut_after`.
struct Proxy {
    port: u16,
    sent: Arc<AtomicU64>,
    cut: Arc<AtomicBool>,
}

fn proxy(upstream: u16, cut_after: u64) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = Arc::new(AtomicU64::new(0));
    let cut = Arc::new(AtomicBool::new(false));
    let (sent2, cut2) = (sent.clone(), cut.clone());
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut s_read, mut c_write) = (server, client);
            let (sent, cut) = (sent2.clone(), cut2.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    let n = match c_read.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let total = sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
                    if total > cut_after && !cut.swap(true, Ordering::SeqCst) {
                        // Mid-chunk: forward half of this read, then drop the connection.
                        let _ = s_write.write_all(&buf[..n / 2]);
                        let _ = s_write.shutdown(Shutdown::Both);
                        let _ = c_read.shutdown(Shutdown::Both);
                        break;
                    }
                    if s_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s_write.shutdown(Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s_read, &mut c_write);
                let _ = c_write.shutdown(Shutdown::Both);
            });
        }
    });
    Proxy { port, sent, cut }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_resumes_the_upload() {
    let site = Site::new();
    let token = site.token("alice", "bureau");
    let _server = site.start();
    let b = browser::start(&[]).await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("evidence.bin");
    let size = 8 * MIB;
    let hash = make_file(&file, size);
    // Cut somewhere inside the fourth 1 MiB chunk of the upload (loading the page sends
    // only a few kilobytes of requests).
    let p2 = proxy(site.port, 3 * MIB + MIB / 2);
    let url2 = format!("http://127.0.0.1:{}/en/report", p2.port);
    b.client.goto(&url2).await.unwrap();
    b.wait_until("!document.getElementById('code-section').hidden", 60)
        .await;
    let page_load = p2.sent.load(Ordering::SeqCst);
    assert!(page_load < MIB, "loading the page sent {page_load} bytes");
    fill_and_send(&b, &file).await;
    b.wait_until("!document.getElementById('receipt').hidden || !document.getElementById('report-error').hidden", 300).await;
    assert!(
        b.eval("document.getElementById('report-error').hidden")
            .await
            == true,
        "{}",
        b.text("report-error").await
    );
    assert!(
        p2.cut.load(Ordering::SeqCst),
        "the connection was cut during the upload"
    );
    let case = b.text("receipt-case").await;
    // Everything the browser sent after loading the page: the document's ciphertext,
    // the re-sent part of the cut chunk, the report, the note and the HTTP headers.
    let sent = p2.sent.load(Ordering::SeqCst) - page_load;
    eprintln!(
        "8 MiB document over a cut connection: {sent} bytes sent ({} more than the file)",
        sent - size
    );
    assert!(
        sent < size + 2 * MIB,
        "sent {sent} bytes for a {size}-byte file"
    );
    assert_eq!(bureau_opens(&site, &token, &case, "evidence.bin"), hash);
}
