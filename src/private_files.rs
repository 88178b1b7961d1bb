//! Files and folders only Keydesk's own user may read: everything Keydesk creates holds
//! password hashes, live reset links or people's mail (the data directory, the SQLite
//! database and its `-wal`/`-shm`, the mail folder and each `.eml`, the intake Maildir,
//! backups). Folders are made 0700 and files 0600 whatever the process's umask.
//!
//! What already exists is left as it is (an operator may have chosen its mode on purpose);
//! `keydesk doctor` warns when it is wider.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The mode of a folder Keydesk creates.
pub const DIR_MODE: u32 = 0o700;
/// The mode of a file Keydesk creates.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` and any missing parents, each 0700; an existing folder is left alone.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Writes `contents` to `path`, replacing what it held, as a file only its owner can read
/// (a file left by an earlier try is narrowed to 0600 too).
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new().write(true).create(true).truncate(true).mode(FILE_MODE).open(path)?;
    file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    file.write_all(contents)
}

/// Creates `path` as a new file only its owner can read; fails with `AlreadyExists` rather
/// than touch a file that is there (a key another process just wrote, an earlier backup).
pub fn create_private_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(path)
}

/// Creates `path` whole or not at all: `fill` writes a temporary file beside it (0600, its
/// name starting with `.` and ending `.partial`), which is synced and then linked into place.
/// A crash leaves no file at `path` or the whole one, never a torn one (a backup cut short,
/// an empty secret key that stops every later start). Fails with `AlreadyExists`, touching
/// nothing, when `path` exists — also when another process put it there meanwhile.
pub fn create_private_file_whole(path: &Path, fill: impl FnOnce(&Path) -> std::io::Result<()>) -> std::io::Result<()> {
    if path.symlink_metadata().is_ok() {
        return Err(std::io::ErrorKind::AlreadyExists.into());
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let temporary = dir.join(format!(".{name}.{}-{nanos}.partial", std::process::id()));
    let written = create_private_file(&temporary)
        .and_then(|_| fill(&temporary))
        .and_then(|()| File::open(&temporary)?.sync_all())
        .and_then(|()| put_in_place(&temporary, path));
    let _ = std::fs::remove_file(&temporary);
    written?;
    // The new name itself on disk; the file is whole and in place even if this fails.
    let _ = File::open(dir).and_then(|dir| dir.sync_all());
    Ok(())
}

/// Gives `temporary` the name `path` unless something has it. A hard link, unlike a
/// rename, never replaces what is there; where links are not supported (a FAT or exFAT
/// drive, some network shares) a rename after a look does, which only a process creating the
/// same name at that very instant could race.
fn put_in_place(temporary: &Path, path: &Path) -> std::io::Result<()> {
    match std::fs::hard_link(temporary, path) {
        Err(error) if error.kind() != std::io::ErrorKind::AlreadyExists && path.symlink_metadata().is_err() => {
            std::fs::rename(temporary, path)
        }
        linked => linked,
    }
}

/// Opens `path` for writing, creating it 0600 when it is not there (a lock file).
pub fn open_private_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().write(true).create(true).truncate(false).mode(FILE_MODE).open(path)
}

/// Makes sure `path` exists, creating it empty and 0600 when it does not: SQLite then opens
/// it as an empty database, and gives its `-wal` and `-shm` files the same mode.
pub fn ensure_private_file(path: &Path) -> std::io::Result<()> {
    match create_private_file(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

/// The permission bits (`0o755`) of what is at `path`, or `None` when nothing is there.
pub fn mode_of(path: &Path) -> std::io::Result<Option<u32>> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(Some(meta.permissions().mode() & 0o777)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_files_are_private_whatever_the_umask_would_give() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_private_dir(&dir).unwrap();
        assert_eq!(mode_of(&root.path().join("a")).unwrap(), Some(0o700));
        assert_eq!(mode_of(&dir).unwrap(), Some(0o700));

        let file = dir.join("f");
        std::fs::write(&file, "old").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private_file(&file, b"new").unwrap();
        assert_eq!((std::fs::read_to_string(&file).unwrap().as_str(), mode_of(&file).unwrap()), ("new", Some(0o600)));

        let created = dir.join("g");
        ensure_private_file(&created).unwrap();
        ensure_private_file(&created).unwrap();
        assert_eq!(mode_of(&created).unwrap(), Some(0o600));
        assert_eq!(create_private_file(&created).unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(mode_of(&dir.join("none")).unwrap(), None);
    }

    #[test]
    fn a_file_created_whole_is_there_whole_or_not_at_all() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("key");
        let failed = create_private_file_whole(&path, |temporary| {
            std::fs::write(temporary, "half")?;
            Err(std::io::Error::other("killed halfway"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0, "no file, not even the temporary one");

        create_private_file_whole(&path, |temporary| std::fs::write(temporary, "whole")).unwrap();
        assert_eq!((std::fs::read_to_string(&path).unwrap().as_str(), mode_of(&path).unwrap()), ("whole", Some(0o600)));
        let again = create_private_file_whole(&path, |temporary| std::fs::write(temporary, "other"));
        assert_eq!(again.unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "whole", "what was there is untouched");
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }
}
