//! The text of a message: from a file, from standard input (`-`), or written in the
//! investigator's editor. The editor's draft is plaintext on disk, so it lives in a
//! private folder and is overwritten before it is removed.

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use zeroize::Zeroizing;

use crate::fsutil::{create_private_file, remove_tree};

/// Lines of the editor template that are dropped.
const COMMENT: &str = "#";

/// Why no message text could be had.
#[derive(Debug)]
#[non_exhaustive]
pub enum ComposeError {
    /// The message file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The system's error.
        error: io::Error,
    },
    /// No file was given and there is no editor.
    NoEditor,
    /// The editor failed.
    Editor {
        /// The editor command.
        editor: String,
        /// What went wrong.
        detail: String,
    },
    /// The message is empty.
    Empty,
    /// The message is not UTF-8 text.
    NotText,
}

impl fmt::Display for ComposeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComposeError::Read { path, error } => {
                write!(
                    f,
                    "could not read the message file {}: {error}",
                    path.display()
                )
            }
            ComposeError::NoEditor => f.write_str(
                "no message: give --message-file FILE (or - for standard input), or set \
                 EDITOR to write it in your editor",
            ),
            ComposeError::Editor { editor, detail } => {
                write!(
                    f,
                    "the editor \"{editor}\" failed: {detail}; nothing was queued"
                )
            }
            ComposeError::Empty => f.write_str("the message is empty; nothing was queued"),
            ComposeError::NotText => f.write_str("the message is not UTF-8 text"),
        }
    }
}

impl std::error::Error for ComposeError {}

/// The message text.
pub fn message_text(file: Option<&Path>, case: &str) -> Result<Zeroizing<String>, ComposeError> {
    let text = match file {
        Some(path) if path == Path::new("-") => {
            let mut bytes = Zeroizing::new(Vec::new());
            io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|error| ComposeError::Read {
                    path: path.to_owned(),
                    error,
                })?;
            to_text(&bytes)?
        }
        Some(path) => {
            let bytes =
                Zeroizing::new(std::fs::read(path).map_err(|error| ComposeError::Read {
                    path: path.to_owned(),
                    error,
                })?);
            to_text(&bytes)?
        }
        None => from_editor(case)?,
    };
    let trimmed = Zeroizing::new(text.trim().to_owned());
    if trimmed.is_empty() {
        return Err(ComposeError::Empty);
    }
    Ok(trimmed)
}

fn to_text(bytes: &[u8]) -> Result<Zeroizing<String>, ComposeError> {
    std::str::from_utf8(bytes)
        .map(|s| Zeroizing::new(s.to_owned()))
        .map_err(|_| ComposeError::NotText)
}

fn from_editor(case: &str) -> Result<Zeroizing<String>, ComposeError> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .ok()
        .filter(|e| !e.trim().is_empty())
        .ok_or(ComposeError::NoEditor)?;
    let failed = |detail: String| ComposeError::Editor {
        editor: editor.clone(),
        detail,
    };
    let dir = tempfile::Builder::new()
        .prefix("meldpunt-draft-")
        .tempdir()
        .map_err(|e| failed(e.to_string()))?;
    let path = dir.path().join("message.txt");
    let template = format!(
        "\n{COMMENT} Your message to the reporter of case {case}.\n\
         {COMMENT} Lines starting with {COMMENT} are removed. An empty message queues nothing.\n"
    );
    let result = (|| {
        {
            use std::io::Write;
            let mut f = create_private_file(&path).map_err(|e| failed(e.to_string()))?;
            f.write_all(template.as_bytes())
                .map_err(|e| failed(e.to_string()))?;
        }
        // Through the shell, so EDITOR may carry arguments ("code --wait").
        // The editor never sees the key's passphrase.
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("sh")
            .arg(&path)
            .env_remove("MELDPUNT_PASSPHRASE")
            .status()
            .map_err(|e| failed(e.to_string()))?;
        if !status.success() {
            return Err(failed(format!("it exited with {status}")));
        }
        let bytes = Zeroizing::new(std::fs::read(&path).map_err(|e| failed(e.to_string()))?);
        let text = to_text(&bytes)?;
        let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with(COMMENT)).collect();
        Ok(Zeroizing::new(kept.join("\n")))
    })();
    let _ = remove_tree(dir.path(), true);
    result
}
