//! A server that stops answering without going away: every process of a [`LocalCluster`]
//! stopped with `SIGSTOP` (the postmaster and all its children), so connections stay open and
//! new ones are accepted by the kernel, but nothing is ever answered. What a hung host, a VM
//! paused, or a network black hole looks like to a client. [`Frozen`] resumes them
//! (`SIGCONT`) when dropped, also when the test fails.

use std::fs;
use std::path::Path;

use crate::{ClusterError, LocalCluster};

/// The processes of a server stopped by [`LocalCluster::freeze`]; dropping it resumes them.
#[derive(Debug)]
#[must_use = "the server resumes when this is dropped"]
pub struct Frozen {
    /// The postmaster first, then its children.
    pids: Vec<i32>,
}

impl LocalCluster {
    /// Stops every process of the server with `SIGSTOP`: the postmaster first (so it starts no
    /// new process), then each of its children (backends, the WAL receiver, the background
    /// processes). Open connections get no answer, and new ones hang after the TCP handshake.
    /// The returned guard resumes them all with `SIGCONT` when dropped.
    ///
    /// Finding the children reads `/proc` (Linux).
    ///
    /// # Errors
    ///
    /// [`ClusterError::Failed`] when the server is not running (no `postmaster.pid`), `/proc`
    /// cannot be read, or a signal cannot be sent (whatever was stopped is resumed first).
    pub fn freeze(&self) -> Result<Frozen, ClusterError> {
        let postmaster = postmaster_pid(&self.data_dir)?;
        let mut frozen = Frozen { pids: Vec::new() };
        frozen.stop(postmaster)?;
        for child in children(postmaster)? {
            frozen.stop(child)?;
        }
        Ok(frozen)
    }
}

impl Frozen {
    /// How many processes are stopped.
    pub fn processes(&self) -> usize {
        self.pids.len()
    }

    /// Resumes the processes now (the same as dropping the guard).
    pub fn thaw(self) {
        drop(self);
    }

    fn stop(&mut self, pid: i32) -> Result<(), ClusterError> {
        // SAFETY: kill has no memory-safety preconditions; `pid` is positive, so it names one
        // process.
        if unsafe { libc::kill(pid, libc::SIGSTOP) } != 0 {
            let e = std::io::Error::last_os_error();
            // A child that exited meanwhile is no error.
            if e.raw_os_error() != Some(libc::ESRCH) {
                return Err(ClusterError::failed(
                    format!("cannot stop server process {pid}"),
                    Some(Box::new(e)),
                ));
            }
        } else {
            self.pids.push(pid);
        }
        Ok(())
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        for &pid in self.pids.iter().rev() {
            // SAFETY: as in `stop`.
            unsafe { libc::kill(pid, libc::SIGCONT) };
        }
    }
}

/// The postmaster's process id, from the first line of `postmaster.pid`.
fn postmaster_pid(data_dir: &Path) -> Result<i32, ClusterError> {
    let path = data_dir.join("postmaster.pid");
    let text = fs::read_to_string(&path).map_err(|e| {
        ClusterError::failed(
            format!("cannot read {} (is the server running?)", path.display()),
            Some(Box::new(e)),
        )
    })?;
    text.lines()
        .next()
        .and_then(|l| l.trim().parse::<i32>().ok())
        .filter(|&pid| pid > 0)
        .ok_or_else(|| ClusterError::failed(format!("no process id in {}", path.display()), None))
}

/// The processes whose parent is `parent`, from `/proc/<pid>/stat`.
fn children(parent: i32) -> Result<Vec<i32>, ClusterError> {
    let entries = fs::read_dir("/proc").map_err(|e| {
        ClusterError::failed(
            "cannot list /proc to find the server's processes",
            Some(Box::new(e)),
        )
    })?;
    let mut pids = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        // A process that exited since the listing has no stat file any more: skipped.
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if parent_of(&stat) == Some(parent) {
            pids.push(pid);
        }
    }
    Ok(pids)
}

/// The parent process id in a `/proc/<pid>/stat` line: `pid (comm) state ppid ...`, where
/// `comm` may hold spaces and parentheses (so the fields are counted after the last `)`).
fn parent_of(stat: &str) -> Option<i32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parent_of;

    #[test]
    fn the_parent_is_read_after_the_command_name() {
        assert_eq!(parent_of("42 (postgres) S 7 42 42 0 -1"), Some(7));
        assert_eq!(parent_of("43 (postgres: a (b) c) S 9 1 1"), Some(9));
        assert_eq!(parent_of("garbage"), None);
    }
}
