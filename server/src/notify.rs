//! The optional content-free notification of a new case: a configured command is run,
//! with no argument, no input and nothing about the case in its environment, so the
//! 7-day acknowledgement deadline is not missed.

use std::process::{Command, Stdio};

/// Runs the notification command, if one is configured, without waiting for it.
pub fn new_case(command: Option<&[String]>) {
    let Some((program, args)) = command.and_then(|c| c.split_first()) else {
        return;
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match cmd.spawn() {
        // Reaped on a thread of its own so no zombie stays behind.
        Ok(mut child) => {
            std::thread::spawn(move || {
                if let Ok(status) = child.wait() {
                    if !status.success() {
                        crate::log::error(format!("the notify command failed ({status})"));
                    }
                }
            });
        }
        Err(e) => crate::log::error(format!("the notify command cannot be run: {e}")),
    }
}
