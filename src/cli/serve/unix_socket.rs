//! The Unix socket listener (`--unix-socket`). The socket file gets mode 0600. It is bound under a
//! temporary name in the same directory, restricted, and only then renamed into place, so nobody
//! can connect to it through its real path while it is still open to others. A stale socket left
//! by a killed run is removed first. A live one (something accepts on it), or anything at the path
//! that is not a socket, is refused. The file is removed when the server stops, unless something
//! else has replaced it by then.

use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tokio::net::UnixListener;

use crate::cli::exit::Usage;

/// Permissions of the socket file: read and write for the owner only.
pub(crate) const SOCKET_MODE: u32 = 0o600;

/// The socket file bound here. It is removed on drop if it is still the same file.
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
    /// Device, inode and change time, to tell our socket from one that replaced it (a freed
    /// inode number is reused at once on tmpfs, so the inode alone cannot tell).
    id: FileId,
}

type FileId = (u64, u64, i64, i64);

fn file_id(m: &std::fs::Metadata) -> FileId {
    (m.dev(), m.ino(), m.ctime(), m.ctime_nsec())
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if let Ok(m) = std::fs::symlink_metadata(&self.path)
            && file_id(&m) == self.id
            && std::fs::remove_file(&self.path).is_ok()
        {
            tracing::info!(path = %self.path.display(), "removed the Unix socket");
        }
    }
}

/// Bind `path` with mode [`SOCKET_MODE`], first removing a stale socket there.
///
/// # Errors
/// [`Usage`] (exit 2) when the path exists and is not a socket or has no file name; a plain error
/// when a live server accepts on it or the socket cannot be created.
pub(crate) fn bind(path: &Path) -> anyhow::Result<(UnixListener, SocketFile)> {
    let shown = path.display();
    if path.file_name().is_none() {
        return Err(Usage(format!("Unix socket {shown}: not a file path")).into());
    }
    remove_stale(path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(".ficx-serve-{}.sock", std::process::id()));
    // Left behind by an earlier process with this pid that died between bind and rename.
    if std::fs::symlink_metadata(&tmp).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = std::fs::remove_file(&tmp);
    }
    let listener =
        UnixListener::bind(&tmp).with_context(|| format!("binding the Unix socket {shown}"))?;
    let placed = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(SOCKET_MODE))
        .and_then(|()| std::fs::rename(&tmp, path))
        .and_then(|()| std::fs::symlink_metadata(path));
    match placed {
        Ok(m) => Ok((
            listener,
            SocketFile {
                path: path.to_owned(),
                id: file_id(&m),
            },
        )),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e).with_context(|| format!("creating the Unix socket {shown}"))
        }
    }
}

/// Make room at `path`: nothing there, or a socket nobody accepts on (removed).
fn remove_stale(path: &Path) -> anyhow::Result<()> {
    let shown = path.display();
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("checking the Unix socket {shown}")),
    };
    if !meta.file_type().is_socket() {
        return Err(Usage(format!(
            "Unix socket {shown}: the path exists and is not a socket; refusing to replace it (remove it or choose another path)"
        ))
        .into());
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(anyhow::anyhow!(
            "Unix socket {shown}: another process is accepting connections on it"
        )),
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path)
                .with_context(|| format!("removing the stale Unix socket {shown}"))?;
            tracing::info!(path = %shown, "removed a stale Unix socket");
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("checking the Unix socket {shown}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn created_0600_stale_replaced_live_and_files_refused_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("serve.sock");

        // A stale socket: its listener is gone, the file is not.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let (listener, file) = bind(&path).unwrap();
        let m = std::fs::symlink_metadata(&path).unwrap();
        assert!(m.file_type().is_socket());
        assert_eq!(m.permissions().mode() & 0o777, SOCKET_MODE);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary name left"
        );

        // Live: refused, and the live socket stays.
        let e = bind(&path).unwrap_err();
        assert!(format!("{e:#}").contains("another process"), "{e:#}");
        assert!(path.exists());

        drop(listener);
        drop(file);
        assert!(!path.exists(), "removed on drop");

        std::fs::write(&path, "not a socket").unwrap();
        let e = bind(&path).unwrap_err();
        assert!(
            e.downcast_ref::<Usage>()
                .is_some_and(|u| u.0.contains("is not a socket")),
            "{e:#}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a socket");
    }

    #[tokio::test]
    async fn a_replaced_socket_is_not_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("serve.sock");
        let (listener, file) = bind(&path).unwrap();
        drop(listener);
        // Created while ours still exists (so it cannot get our inode), then moved over it.
        let elsewhere = dir.path().join("other.sock");
        let _other = std::os::unix::net::UnixListener::bind(&elsewhere).unwrap();
        std::fs::rename(&elsewhere, &path).unwrap();
        drop(file);
        assert!(path.exists(), "someone else's socket stays");
    }
}
