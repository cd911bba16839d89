//! Running as root: `initdb` and `postgres` refuse to, so the server binaries run as the
//! `postgres` system user, who must own and reach the cluster's temporary directory.

use std::env;
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::ClusterError;

/// A system user (uid and gid) to run the server binaries as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ServerUser {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// `None` when not root; the `postgres` system user when root.
pub(crate) fn server_user() -> Result<Option<ServerUser>, ClusterError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    match lookup_user("postgres") {
        Ok(Some(user)) if user.uid != 0 => Ok(Some(user)),
        Ok(_) => Err(ClusterError::failed(
            "this process runs as root, and initdb and postgres refuse to run as root, but there \
             is no `postgres` system user to run them as: create one (`useradd --system \
             --user-group postgres`; the Debian `postgresql` package does), run as a non-root \
             user, or set DATABASE_URL to a running server",
            None,
        )),
        Err(e) => Err(ClusterError::failed(
            "this process runs as root, and looking up the `postgres` system user to run the \
             server as failed",
            Some(Box::new(e)),
        )),
    }
}

/// The uid and gid of a system user, through the thread-safe `getpwnam_r`.
fn lookup_user(name: &str) -> io::Result<Option<ServerUser>> {
    let cname = CString::new(name).map_err(io::Error::other)?;
    let mut buf: Vec<libc::c_char> = vec![0; 4096];
    loop {
        // SAFETY: an all-zero `passwd` is valid (null pointers and zero ids); getpwnam_r fills it.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call, and `buf.len()` is the buffer's real size.
        let rc = unsafe {
            libc::getpwnam_r(
                cname.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        if rc == libc::ERANGE && buf.len() < (1 << 20) {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        if result.is_null() {
            return Ok(None);
        }
        return Ok(Some(ServerUser {
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
        }));
    }
}

/// Creates a new private directory `orm-postgres-<pid>-<counter>-<nanos>` under the system's
/// temporary directory, owned by the server user when we are root.
pub(crate) fn create_temp_dir(user: Option<ServerUser>) -> Result<PathBuf, ClusterError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut base = env::temp_dir();
    if let Some(user) = user {
        // The server user must reach the directory: a private TMPDIR (say, under /root) will not do.
        if !reachable_by(&base, user) {
            base = PathBuf::from("/tmp");
        }
    }
    let mut tries = 0;
    loop {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = base.join(format!(
            "orm-postgres-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            nanos
        ));
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                if let Some(user) = user {
                    if let Err(e) = chown(&dir, user) {
                        let _ = fs::remove_dir(&dir);
                        return Err(e);
                    }
                }
                return Ok(dir);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && tries < 10 => tries += 1,
            Err(e) => {
                return Err(ClusterError::failed(
                    format!(
                        "cannot create a temporary directory under {}",
                        base.display()
                    ),
                    Some(Box::new(e)),
                ));
            }
        }
    }
}

/// Whether `user` may traverse every directory from `/` down to `dir`.
fn reachable_by(dir: &Path, user: ServerUser) -> bool {
    dir.ancestors().all(|p| {
        fs::metadata(p).is_ok_and(|m| {
            let mode = m.mode();
            if m.uid() == user.uid {
                mode & 0o100 != 0
            } else if m.gid() == user.gid {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            }
        })
    })
}

/// Gives `path` to the server user.
pub(crate) fn chown(path: &Path, user: ServerUser) -> Result<(), ClusterError> {
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)).map_err(|e| {
        ClusterError::failed(
            format!(
                "cannot give {} to the `postgres` system user (uid {})",
                path.display(),
                user.uid
            ),
            Some(Box::new(e)),
        )
    })
}
