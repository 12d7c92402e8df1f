use super::*;
use std::os::unix::fs::PermissionsExt;

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// `path` holds `text`, and no temporary is left beside it.
fn holds(path: &Path, text: &str) {
    assert_eq!(std::fs::read_to_string(path).unwrap(), text);
    assert_eq!(leftovers(path.parent().unwrap()), Vec::<String>::new());
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_new_file_is_written_whole_and_nothing_else_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sheet.csv");
    write_new(&path, "a,b\n1,2\n").unwrap();
    holds(&path, "a,b\n1,2\n");
    assert_eq!(mode(&path), 0o666 & !umask(), "as File::create makes it");
}

#[test]
fn an_existing_file_is_never_replaced_and_keeps_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kept.txt");
    std::fs::write(&path, "old").unwrap();
    assert!(matches!(write_new(&path, "new"), Err(Error::Exists)));
    let ran = std::cell::Cell::new(false);
    let r = write_new_with(&path, |w| {
        ran.set(true);
        w.write_all(b"new")
    });
    assert!(matches!(r, Err(Error::Exists)));
    assert!(!ran.get(), "nothing is written when the path is taken");
    holds(&path, "old");
}

#[test]
fn a_file_that_appears_while_writing_is_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("race.txt");
    let r = write_new_with(&path, |w| {
        std::fs::write(&path, "theirs")?;
        w.write_all(b"ours")
    });
    assert!(matches!(r, Err(Error::Appeared)), "{r:?}");
    holds(&path, "theirs");
}

#[test]
fn a_broken_link_at_the_path_counts_as_taken() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("link");
    let target = dir.path().join("nowhere");
    std::os::unix::fs::symlink(&target, &path).unwrap();
    assert!(matches!(write_new(&path, "x"), Err(Error::Exists)));
    assert!(!target.exists(), "never written through the link");
}

#[test]
fn a_failed_write_leaves_no_file_and_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("half.csv");
    let r: Result<(), Error<&str>> = write_new_with(&path, |w| {
        w.write_all(&[b'x'; 4 << 20]).unwrap();
        Err("the disk is full")
    });
    assert!(matches!(r, Err(Error::Writer("the disk is full"))), "{r:?}");
    assert!(path.symlink_metadata().is_err());
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}

#[test]
fn a_folder_that_is_not_there_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/file.txt");
    let e = write_new(&path, "x").unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e:?}");
    let io: io::Error = e.into();
    assert_eq!(io.kind(), io::ErrorKind::NotFound);
}

#[test]
fn the_temporary_is_private_while_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("open.txt");
    let seen = write_new_with(&path, |w| {
        w.write_all(b"x")?;
        let names = leftovers(dir.path());
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].starts_with(".open.txt."), "{names:?}");
        Ok::<_, io::Error>(mode(&dir.path().join(&names[0])))
    })
    .unwrap();
    assert_eq!(seen, 0o600);
}

#[test]
fn a_private_file_stays_its_owners_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("copy.redb");
    NewFile::at(&path)
        .access(Access::Private)
        .write(b"records")
        .unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(std::fs::read(&path).unwrap(), b"records");
}

#[test]
fn what_the_writer_returns_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("count.txt");
    let n = write_new_with(&path, |w| {
        for i in 0..3 {
            writeln!(w, "{i}")?;
        }
        Ok::<_, io::Error>(3)
    })
    .unwrap();
    assert_eq!(n, 3);
    holds(&path, "0\n1\n2\n");
}

#[test]
fn a_bare_name_is_written_in_the_current_folder() {
    assert_eq!(folder_of(Path::new("x.csv")), Path::new("."));
    assert_eq!(folder_of(Path::new("a/x.csv")), Path::new("a"));
}

#[test]
fn the_umask_is_read_without_changing_it() {
    let before = umask();
    assert_eq!(umask(), before);
    assert_eq!(before & !0o777, 0);
}

#[cfg(target_os = "linux")]
#[test]
fn the_rename_for_file_systems_without_links_never_replaces() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, "new").unwrap();
    std::fs::write(&b, "old").unwrap();
    let e = rename_no_replace(&a, &b).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read_to_string(&b).unwrap(), "old");
    std::fs::remove_file(&b).unwrap();
    rename_no_replace(&a, &b).unwrap();
    assert_eq!(std::fs::read_to_string(&b).unwrap(), "new");
    assert!(!a.exists());
}

#[test]
fn a_writer_that_panics_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("boom.txt");
    let r = std::panic::catch_unwind(|| {
        let _ = write_new_with(&path, |w| -> io::Result<()> {
            w.write_all(b"half")?;
            panic!("the writer broke");
        });
    });
    assert!(r.is_err());
    assert!(path.symlink_metadata().is_err());
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
}
